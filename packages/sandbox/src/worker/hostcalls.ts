/**
 * The import object an agent is linked against, assembled from hostcall
 * groups (one file per group). To add a group (e.g. an `http` capability
 * whose call blocks the worker with `Atomics.wait` while the node performs
 * the request): write `<group>.ts` exporting a function of `HostcallContext`,
 * and link it here. Every group reads and writes agent memory only through
 * `context.memory` and reports output only through `context.output`.
 */
import type { WorkerSetup } from '../pool/messages.js'
import { IGOR_MODULE, WASI_MODULE } from '../wasm/abi.js'
import { INTERRUPT_IMPORT, INTERRUPT_MODULE } from '../wasm/interrupt-checks.js'
import type { HostcallContext } from './hostcall-context.js'
import { IGOR_HOSTCALLS } from './igor-hostcalls.js'
import { VirtualWasi } from './virtual-wasi.js'

export type { HostcallContext } from './hostcall-context.js'

export function buildImports(setup: Pick<WorkerSetup, 'capabilities' | 'usesWasi'>, context: HostcallContext): WebAssembly.Imports {
  const igor: WebAssembly.ModuleImports = {}
  for (const capability of setup.capabilities) {
    const group = IGOR_HOSTCALLS[capability as keyof typeof IGOR_HOSTCALLS]
    if (group !== undefined) Object.assign(igor, group(context))
  }
  // SPEC §11: the poll the interruption pass linked into every prepared module.
  const imports: WebAssembly.Imports = { [IGOR_MODULE]: igor, [INTERRUPT_MODULE]: { [INTERRUPT_IMPORT]: () => context.call.pollInterrupt() } }
  if (setup.usesWasi) {
    imports[WASI_MODULE] = new VirtualWasi({ memory: context.memory, call: context.call, stdout: context.stdout, stderr: context.stderr }).imports()
  }
  return imports
}

/**
 * SPEC §11 "Sharing a thread, fairly": every hostcall polls the interrupt flag
 * before it runs, so a loop whose cost is in a hostcall (a megabyte of
 * `random_get` per iteration) is stopped as promptly as one whose cost is
 * its own code. `igor_internal` (the poll itself) is left as it is.
 */
export function pollingImports(imports: WebAssembly.Imports, poll: () => void): WebAssembly.Imports {
  const out: WebAssembly.Imports = {}
  for (const [module, functions] of Object.entries(imports)) {
    if (module === INTERRUPT_MODULE) {
      out[module] = functions
      continue
    }
    const wrapped: WebAssembly.ModuleImports = {}
    for (const [name, value] of Object.entries(functions)) {
      wrapped[name] = typeof value === 'function'
        ? (...args: unknown[]): unknown => {
            poll()
            return (value as (...a: unknown[]) => unknown)(...args)
          }
        : value
    }
    out[module] = wrapped
  }
  return out
}
