// Loads built agents with plain WebAssembly and a hand-written stub of the
// `igor` host (SPEC §5), standing in for the runner in these tests.
import { existsSync, readFileSync } from 'node:fs'
import { type AgentName, agentPath, manifestPath } from '../index.js'

export const MiB = 1024 * 1024
export const NODE_MEMORY_LIMIT = 64 * MiB

/** SPEC §5: capability → the one igor import it grants. */
export const CAPABILITY_IMPORTS = {
  clock: 'clock_now',
  rand: 'rand_bytes',
  log: 'log_emit',
  wallet: 'wallet_balance',
  pricing: 'node_price',
  http: 'http_request',
  x402: 'wallet_pay',
  mobility: 'request_move'
} as const
export type Capability = keyof typeof CAPABILITY_IMPORTS

export interface AgentExports {
  readonly memory: WebAssembly.Memory
  agent_init(): void
  agent_tick(): number
  agent_checkpoint(): number
  agent_checkpoint_ptr(): number
  agent_resume(ptr: number, len: number): void
  malloc(size: number): number
}

export interface Manifest {
  capabilities: Record<string, { version: number, options?: Record<string, unknown> }>
  resource_limits?: { max_memory_bytes?: number }
  migration_policy?: { enabled: boolean, max_price_per_second: number }
}

export function readWasm(name: AgentName): Uint8Array<ArrayBuffer> {
  const path = agentPath(name)
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`pnpm --filter @igor/agents build\` first`)
  return new Uint8Array(readFileSync(path))
}

const modules = new Map<AgentName, WebAssembly.Module>()
export function compiled(name: AgentName): WebAssembly.Module {
  let module = modules.get(name)
  if (module === undefined) {
    module = new WebAssembly.Module(readWasm(name))
    modules.set(name, module)
  }
  return module
}

export function readManifest(name: AgentName): Manifest {
  return JSON.parse(readFileSync(manifestPath(name), 'utf8')) as Manifest
}

/** A deterministic, scriptable stand-in for the node's hostcalls. */
export class StubHost {
  /** Next value clock_now returns; each call then advances it by clockStepNs. */
  clockNs = 1_700_000_000_000_000_000n
  clockStepNs = 1_000_000_000n
  balance = 1_000_000n
  /** What node_price answers (SPEC §15). */
  price = 1000n
  randResult = 0
  /** Every 8-byte rand_bytes draw, read back as u64 LE, in order. */
  readonly randDraws: bigint[] = []
  readonly lines: string[] = []
  memory: WebAssembly.Memory | null = null
  private randSeed = 0

  private bytes(ptr: number, len: number): Uint8Array {
    if (this.memory === null) throw new Error('stub host used before instantiation')
    return new Uint8Array(this.memory.buffer, ptr, len)
  }

  /** Only the declared capabilities are provided, as a node does. */
  imports(capabilities: readonly string[]): WebAssembly.Imports {
    const all: Record<Capability, (...args: never[]) => unknown> = {
      clock: () => {
        const now = this.clockNs
        this.clockNs += this.clockStepNs
        return now
      },
      rand: (ptr: number, len: number) => {
        if (this.randResult !== 0) return this.randResult
        const out = this.bytes(ptr, len)
        for (let i = 0; i < len; i++) out[i] = (this.randSeed * 37 + i * 11 + 5) & 0xff
        this.randSeed++
        if (len === 8) this.randDraws.push(new DataView(out.buffer, ptr, 8).getBigUint64(0, true))
        return 0
      },
      log: (ptr: number, len: number) => {
        this.lines.push(new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(ptr, len).slice()))
      },
      wallet: () => this.balance,
      pricing: () => this.price,
      // The ABI tests never reach a network: every request fails as a transport error (−1).
      http: () => -1,
      // Nor a paywall: every payment is refused as over the budget (−1), nothing paid.
      x402: () => -1,
      // SPEC §16: every move request is noted.
      mobility: () => 0
    }
    const igor: WebAssembly.ModuleImports = {}
    for (const cap of capabilities) {
      const fn = all[cap as Capability]
      igor[CAPABILITY_IMPORTS[cap as Capability]] = fn
    }
    return { igor }
  }
}

export interface Loaded {
  readonly agent: AgentExports
  readonly host: StubHost
}

/** Instantiates a built agent with the capabilities its manifest declares. */
export function instantiate(name: AgentName, host = new StubHost()): Loaded {
  const capabilities = Object.keys(readManifest(name).capabilities)
  const instance = new WebAssembly.Instance(compiled(name), host.imports(capabilities))
  const agent = instance.exports as unknown as AgentExports
  host.memory = agent.memory
  return { agent, host }
}

/** agent_checkpoint + agent_checkpoint_ptr, copied out as the host would. */
export function checkpoint(agent: AgentExports): Uint8Array {
  const size = agent.agent_checkpoint()
  const ptr = agent.agent_checkpoint_ptr()
  return new Uint8Array(agent.memory.buffer, ptr, size).slice()
}

/** malloc(len), write the bytes, agent_resume(ptr, len): the host side of resume. */
export function resume(agent: AgentExports, state: Uint8Array, len = state.length): void {
  const ptr = agent.malloc(state.length)
  new Uint8Array(agent.memory.buffer, ptr, state.length).set(state)
  agent.agent_resume(ptr, len)
}

export function u64At(bytes: Uint8Array, offset: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true)
}

export function i64At(bytes: Uint8Array, offset: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigInt64(offset, true)
}

export function u64Bytes(...values: bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8)
  const view = new DataView(out.buffer)
  values.forEach((value, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, value), true))
  return out
}

/**
 * Byte equality without handing megabytes to the matcher (toEqual on a 16 MiB
 * typed array walks every index as a property and exhausts the heap).
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}
