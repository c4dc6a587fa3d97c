/**
 * Worker-thread entry: one agent instance per worker (SPEC §5 isolation), so a
 * runaway tick can be stopped by terminating the worker without touching the
 * node or any other agent.
 */
import { randomFillSync } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { WorkerLog, WorkerReply, WorkerRequest, WorkerSetup } from './sandbox/messages.js'

const MAX_RAND_BYTES = 64 * 1024 * 1024
const MAX_LOG_BYTES = 1024 * 1024

// node:wasi announces itself as experimental; users of igord should not see that.
const emitWarning = process.emitWarning.bind(process)
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message
  if (/WASI/.test(text)) return
  ;(emitWarning as (...args: unknown[]) => void)(warning, ...rest)
})

const { WASI } = await import('node:wasi')

const port = parentPort
if (port === null) throw new Error('agent-worker must run in a worker thread')

let memory: WebAssembly.Memory | null = null
let budget = 0n
const utf8 = new TextDecoder('utf-8', { fatal: false })

function post(message: WorkerReply | WorkerLog, transfer?: ArrayBuffer[]): void {
  port!.postMessage(message, transfer)
}

function bytesOf(ptr: number, len: number): Uint8Array | null {
  if (memory === null) return null
  const start = ptr >>> 0
  const length = len >>> 0
  if (start + length > memory.buffer.byteLength) return null
  return new Uint8Array(memory.buffer, start, length)
}

// SPEC §5 hostcalls; only the declared capabilities are registered at all.
const hostcalls: Record<string, Record<string, (...args: never[]) => unknown>> = {
  clock: {
    clock_now: (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6))
  },
  rand: {
    rand_bytes: (ptr: number, len: number): number => {
      if ((len >>> 0) > MAX_RAND_BYTES) return -2
      const target = bytesOf(ptr, len)
      if (target === null) return -4
      try {
        randomFillSync(target)
        return 0
      } catch {
        return -1
      }
    }
  },
  log: {
    log_emit: (ptr: number, len: number): void => {
      if ((len >>> 0) > MAX_LOG_BYTES) return
      const bytes = bytesOf(ptr, len)
      if (bytes === null) return
      post({ type: 'log', stream: 'agent', line: utf8.decode(bytes) })
    }
  },
  wallet: {
    wallet_balance: (): bigint => budget
  }
}

function igorImports(capabilities: readonly string[]): WebAssembly.ModuleImports {
  const imports: WebAssembly.ModuleImports = {}
  for (const capability of capabilities) Object.assign(imports, hostcalls[capability])
  return imports
}

/** Buffers WASI writes to fd 1/2 into whole lines for the node's log. */
class LineBuffer {
  private pending = ''
  constructor(private readonly stream: 'stdout' | 'stderr') {}
  write(bytes: Uint8Array): void {
    this.pending += utf8.decode(bytes, { stream: true })
    let newline = this.pending.indexOf('\n')
    while (newline !== -1) {
      post({ type: 'log', stream: this.stream, line: this.pending.slice(0, newline) })
      this.pending = this.pending.slice(newline + 1)
      newline = this.pending.indexOf('\n')
    }
    if (this.pending.length > MAX_LOG_BYTES) this.flush()
  }
  flush(): void {
    if (this.pending.length > 0) post({ type: 'log', stream: this.stream, line: this.pending })
    this.pending = ''
  }
}

const WASI_ERRNO_FAULT = 21
const outputs = { 1: new LineBuffer('stdout'), 2: new LineBuffer('stderr') } as const

// SPEC §5: WASI preview1 with no filesystem, no network, no environment.
const wasi = new WASI({ version: 'preview1', args: [], env: {}, preopens: {}, returnOnExit: true })

function wasiImports(): WebAssembly.ModuleImports {
  const base = wasi.wasiImport as Record<string, (...args: number[]) => number>
  return {
    ...base,
    fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
      const out = fd === 1 || fd === 2 ? outputs[fd] : null
      if (out === null) return base.fd_write!(fd, iovs, iovsLen, nwritten)
      if (memory === null) return WASI_ERRNO_FAULT
      const view = new DataView(memory.buffer)
      let total = 0
      try {
        for (let i = 0; i < iovsLen; i++) {
          const ptr = view.getUint32(iovs + i * 8, true)
          const len = view.getUint32(iovs + i * 8 + 4, true)
          const bytes = bytesOf(ptr, len)
          if (bytes === null) return WASI_ERRNO_FAULT
          out.write(bytes)
          total += len
        }
        view.setUint32(nwritten, total, true)
      } catch {
        return WASI_ERRNO_FAULT
      }
      return 0
    }
  }
}

interface AgentExports {
  memory: WebAssembly.Memory
  agent_init: () => unknown
  agent_tick: () => unknown
  agent_checkpoint: () => number
  agent_checkpoint_ptr: () => number
  agent_resume: (ptr: number, len: number) => unknown
  malloc: (size: number) => number
}

let agent: AgentExports | null = null

class AbiError extends Error {}

function instantiate(setup: WorkerSetup): AgentExports {
  const imports: WebAssembly.Imports = { igor: igorImports(setup.capabilities) }
  if (setup.usesWasi) imports.wasi_snapshot_preview1 = wasiImports()
  const instance = new WebAssembly.Instance(setup.module, imports)
  const exports = instance.exports as unknown as AgentExports
  memory = exports.memory
  if (setup.entry !== null) {
    if (setup.usesWasi) {
      if (setup.entry === '_start') {
        const code = wasi.start(instance)
        if (code !== 0) throw new AbiError(`_start exited with code ${code}`)
      } else {
        wasi.initialize(instance)
      }
    } else {
      ;(instance.exports[setup.entry] as () => void)()
    }
  }
  return exports
}

function resume(exports: AgentExports, state: Uint8Array): void {
  const ptr = exports.malloc(state.byteLength)
  const target = bytesOf(ptr, state.byteLength)
  if (target === null || ptr === 0) throw new AbiError(`malloc(${state.byteLength}) returned an unusable pointer ${ptr}`)
  target.set(state)
  exports.agent_resume(ptr, state.byteLength)
}

function snapshot(exports: AgentExports): Uint8Array {
  const size = exports.agent_checkpoint()
  const ptr = exports.agent_checkpoint_ptr()
  const bytes = bytesOf(ptr, size)
  if (bytes === null || size < 0) throw new AbiError(`agent_checkpoint returned ${size} bytes at ${ptr >>> 0}, outside its memory`)
  return bytes.slice()
}

function fail(id: number, error: unknown): void {
  const kind = error instanceof AbiError ? 'abi' : 'trap'
  const message = error instanceof Error ? error.message : String(error)
  post({ type: 'reply', id, ok: false, kind, message })
}

port.on('message', (request: WorkerRequest) => {
  try {
    switch (request.op) {
      case 'init': {
        if (agent !== null) throw new AbiError('init twice')
        budget = request.budget
        agent = instantiate(request.setup)
        agent.agent_init()
        if (request.state !== null) resume(agent, request.state)
        post({ type: 'reply', id: request.id, ok: true })
        break
      }
      case 'tick': {
        if (agent === null) throw new AbiError('tick before init')
        budget = request.budget
        const started = process.hrtime.bigint()
        const result = agent.agent_tick()
        const elapsedNs = process.hrtime.bigint() - started
        post({ type: 'reply', id: request.id, ok: true, more: typeof result === 'number' && result !== 0, elapsedNs })
        break
      }
      case 'checkpoint': {
        if (agent === null) throw new AbiError('checkpoint before init')
        const state = snapshot(agent)
        post({ type: 'reply', id: request.id, ok: true, state }, [state.buffer as ArrayBuffer])
        break
      }
    }
  } catch (error) {
    fail(request.id, error)
  } finally {
    outputs[1].flush()
    outputs[2].flush()
  }
})
