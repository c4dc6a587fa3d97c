/**
 * SPEC §11: WASI preview1, deny by default, served entirely in JavaScript.
 * No call reaches the host's WASI, file descriptors, signals or sockets: fds
 * 0–2 live in a virtual table private to the agent, stdout/stderr become log
 * lines under the output caps, and everything else answers an errno.
 *
 * Every name of `WASI_PREVIEW1_FUNCTIONS` is provided; `prepareAgentModule`
 * refuses any other name in the module, so linking never fails.
 */
import { randomFillSync } from 'node:crypto'
import { WASI_PREVIEW1_FUNCTIONS } from '../wasm/abi.js'
import type { CallState } from './call-state.js'
import { monotonicNs } from './call-state.js'
import { DeadlineExceeded, ProcExit } from './errors.js'
import type { AgentMemory } from './memory.js'
import type { LineAssembler } from './output-caps.js'

/** The preview1 errno values the sandbox answers with. */
export const ERRNO = Object.freeze({
  SUCCESS: 0,
  BADF: 8,
  FAULT: 21,
  INVAL: 28,
  NOSYS: 52,
  NOTSUP: 58,
  NOTCAPABLE: 76
})

/** SPEC §11: `random_get` over 1 MiB is refused with EINVAL. */
export const MAX_RANDOM_GET_BYTES = 1024 * 1024

const CLOCK_REALTIME = 0
const CLOCK_MONOTONIC = 1
const FILETYPE_CHARACTER_DEVICE = 2
const RIGHT_FD_READ = 1n << 1n
const RIGHT_FD_WRITE = 1n << 6n
const RIGHT_POLL_FD_READWRITE = 1n << 27n
const EVENTTYPE_CLOCK = 0
const SUBSCRIPTION_CLOCK_ABSTIME = 1
const SUBSCRIPTION_BYTES = 48
const EVENT_BYTES = 32

type VirtualFile = 'stdin' | 'stdout' | 'stderr'

export interface VirtualWasiOptions {
  readonly memory: AgentMemory
  readonly call: CallState
  readonly stdout: LineAssembler
  readonly stderr: LineAssembler
}

type WasiFunction = (...args: never[]) => number | undefined

export class VirtualWasi {
  /** The agent's own descriptor table (SPEC §11: fd_close/fd_renumber affect only this). */
  private readonly fds = new Map<number, VirtualFile>([[0, 'stdin'], [1, 'stdout'], [2, 'stderr']])
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4))
  private readonly realtimeBaseNs = BigInt(Date.now()) * 1_000_000n
  private readonly monotonicBaseNs = monotonicNs()

  constructor(private readonly options: VirtualWasiOptions) {}

  /** The `wasi_snapshot_preview1` import object: every preview1 name, each guarded. */
  imports(): WebAssembly.ModuleImports {
    const calls = this.functions()
    const out: WebAssembly.ModuleImports = {}
    for (const name of WASI_PREVIEW1_FUNCTIONS) {
      const call = calls[name] ?? ((fd: number) => this.denied(fd))
      out[name] = guard(call as (...args: unknown[]) => number | undefined)
    }
    return out
  }

  /** The answer of every preview1 function; a name missing here answers like an unknown `fd_*` call. */
  functions(): Record<string, WasiFunction> {
    return {
      args_get: () => ERRNO.SUCCESS,
      args_sizes_get: (count: number, size: number) => this.writeU32Pair(count, size, 0, 0),
      environ_get: () => ERRNO.SUCCESS,
      environ_sizes_get: (count: number, size: number) => this.writeU32Pair(count, size, 0, 0),
      clock_res_get: (id: number, out: number) => {
        if (id !== CLOCK_REALTIME && id !== CLOCK_MONOTONIC) return ERRNO.INVAL
        return this.writeU64(out, 1000n)
      },
      clock_time_get: (id: number, _precision: bigint, out: number) => {
        const now = this.clockNs(id)
        return now === null ? ERRNO.INVAL : this.writeU64(out, now)
      },
      random_get: (ptr: number, len: number) => this.randomGet(ptr, len),
      fd_write: (fd: number, iovs: number, count: number, written: number) => this.fdWrite(fd, iovs, count, written),
      fd_read: (fd: number, iovs: number, count: number, read: number) => this.fdRead(fd, iovs, count, read),
      fd_fdstat_get: (fd: number, out: number) => this.fdstat(fd, out),
      fd_close: (fd: number) => (this.fds.delete(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_renumber: (from: number, to: number) => this.renumber(from, to),
      fd_prestat_get: () => ERRNO.BADF,
      fd_prestat_dir_name: () => ERRNO.BADF,
      poll_oneoff: (input: number, output: number, count: number, events: number) => this.pollOneoff(input, output, count, events),
      proc_exit: (code: number) => this.options.call.procExit(code >>> 0),
      proc_raise: () => ERRNO.NOSYS,
      sched_yield: () => ERRNO.SUCCESS,
      sock_accept: () => ERRNO.NOTSUP,
      sock_recv: () => ERRNO.NOTSUP,
      sock_send: () => ERRNO.NOTSUP,
      sock_shutdown: () => ERRNO.NOTSUP
    }
  }

  /** Every other `fd_*` and `path_*`: EBADF for a descriptor the agent does not have, ENOTCAPABLE for 0–2. */
  private denied(fd: number): number {
    return this.fds.has(fd) ? ERRNO.NOTCAPABLE : ERRNO.BADF
  }

  private clockNs(id: number): bigint | null {
    const elapsed = monotonicNs() - this.monotonicBaseNs
    if (id === CLOCK_REALTIME) return this.realtimeBaseNs + elapsed
    if (id === CLOCK_MONOTONIC) return this.monotonicBaseNs + elapsed
    return null
  }

  private writeU64(ptr: number, value: bigint): number {
    const view = this.options.memory.view(ptr, 8)
    if (view === null) return ERRNO.FAULT
    view.setBigUint64(0, value, true)
    return ERRNO.SUCCESS
  }

  private writeU32Pair(a: number, b: number, first: number, second: number): number {
    const x = this.options.memory.view(a, 4)
    const y = this.options.memory.view(b, 4)
    if (x === null || y === null) return ERRNO.FAULT
    x.setUint32(0, first, true)
    y.setUint32(0, second, true)
    return ERRNO.SUCCESS
  }

  private randomGet(ptr: number, len: number): number {
    if ((len >>> 0) > MAX_RANDOM_GET_BYTES) return ERRNO.INVAL
    const target = this.options.memory.bytes(ptr, len)
    if (target === null) return ERRNO.FAULT
    randomFillSync(target)
    return ERRNO.SUCCESS
  }

  /** The (ptr, len) pairs of an iovec array, or null when any of it is outside memory. */
  private iovecs(iovs: number, count: number): Array<Uint8Array> | null {
    const table = this.options.memory.view(iovs, (count >>> 0) * 8)
    if (table === null) return null
    const out: Uint8Array[] = []
    for (let i = 0; i < count >>> 0; i++) {
      const bytes = this.options.memory.bytes(table.getUint32(i * 8, true), table.getUint32(i * 8 + 4, true))
      if (bytes === null) return null
      out.push(bytes)
    }
    return out
  }

  private fdWrite(fd: number, iovs: number, count: number, written: number): number {
    const file = this.fds.get(fd)
    if (file === undefined) return ERRNO.BADF
    if (file === 'stdin') return ERRNO.BADF
    const buffers = this.iovecs(iovs, count)
    const result = this.options.memory.view(written, 4)
    if (buffers === null || result === null) return ERRNO.FAULT
    const out = file === 'stdout' ? this.options.stdout : this.options.stderr
    let total = 0
    for (const bytes of buffers) {
      out.write(bytes)
      total += bytes.byteLength
    }
    // Everything counts as written, even what the caps dropped: a writer must not retry forever.
    result.setUint32(0, total >>> 0, true)
    return ERRNO.SUCCESS
  }

  private fdRead(fd: number, iovs: number, count: number, read: number): number {
    const file = this.fds.get(fd)
    if (file !== 'stdin') return ERRNO.BADF
    const result = this.options.memory.view(read, 4)
    if (this.iovecs(iovs, count) === null || result === null) return ERRNO.FAULT
    result.setUint32(0, 0, true) // end of input
    return ERRNO.SUCCESS
  }

  private fdstat(fd: number, out: number): number {
    const file = this.fds.get(fd)
    if (file === undefined) return ERRNO.BADF
    const view = this.options.memory.view(out, 24)
    if (view === null) return ERRNO.FAULT
    const rights = (file === 'stdin' ? RIGHT_FD_READ : RIGHT_FD_WRITE) | RIGHT_POLL_FD_READWRITE
    view.setUint8(0, FILETYPE_CHARACTER_DEVICE)
    view.setUint8(1, 0)
    view.setUint16(2, 0, true)
    view.setUint32(4, 0, true)
    view.setBigUint64(8, rights, true)
    view.setBigUint64(16, 0n, true)
    return ERRNO.SUCCESS
  }

  private renumber(from: number, to: number): number {
    const file = this.fds.get(from)
    if (file === undefined || !this.fds.has(to)) return ERRNO.BADF
    if (from === to) return ERRNO.SUCCESS
    this.fds.set(to, file)
    this.fds.delete(from)
    return ERRNO.SUCCESS
  }

  /**
   * Clock subscriptions complete at once or after a wait that never outlives
   * the call's deadline (asking for longer ends the call as a missed
   * deadline, at once); fd subscriptions report EBADF (SPEC §11).
   */
  private pollOneoff(input: number, output: number, count: number, eventsOut: number): number {
    const n = count >>> 0
    if (n === 0) return ERRNO.INVAL
    const subs = this.options.memory.view(input, n * SUBSCRIPTION_BYTES)
    const events = this.options.memory.view(output, n * EVENT_BYTES)
    const written = this.options.memory.view(eventsOut, 4)
    if (subs === null || events === null || written === null) return ERRNO.FAULT

    interface Ready { userdata: bigint, type: number, error: number }
    const ready: Ready[] = []
    const clocks: Array<{ userdata: bigint, waitNs: bigint }> = []
    for (let i = 0; i < n; i++) {
      const base = i * SUBSCRIPTION_BYTES
      const userdata = subs.getBigUint64(base, true)
      const type = subs.getUint8(base + 8)
      if (type === EVENTTYPE_CLOCK) {
        const now = this.clockNs(subs.getUint32(base + 16, true))
        if (now === null) {
          ready.push({ userdata, type, error: ERRNO.INVAL })
          continue
        }
        const timeout = subs.getBigUint64(base + 24, true)
        const absolute = (subs.getUint16(base + 40, true) & SUBSCRIPTION_CLOCK_ABSTIME) !== 0
        const waitNs = absolute ? timeout - now : timeout
        if (waitNs <= 0n) ready.push({ userdata, type, error: ERRNO.SUCCESS })
        else clocks.push({ userdata, waitNs })
      } else if (type === 1 || type === 2) {
        ready.push({ userdata, type, error: ERRNO.BADF })
      } else {
        return ERRNO.INVAL
      }
    }
    if (ready.length === 0) {
      const waitNs = clocks.reduce((min, c) => (c.waitNs < min ? c.waitNs : min), clocks[0]!.waitNs)
      const remaining = this.options.call.remainingNs()
      if (waitNs > remaining) {
        this.options.call.overrun(`poll_oneoff asked to wait ${formatNs(waitNs)}, past the call's deadline (${formatNs(remaining)} left)`)
      }
      Atomics.wait(this.sleeper, 0, 0, Number(waitNs) / 1e6)
      for (const clock of clocks) if (clock.waitNs <= waitNs) ready.push({ userdata: clock.userdata, type: EVENTTYPE_CLOCK, error: ERRNO.SUCCESS })
    }
    ready.forEach((event, i) => {
      const base = i * EVENT_BYTES
      for (let b = 0; b < EVENT_BYTES; b += 8) events.setBigUint64(base + b, 0n, true)
      events.setBigUint64(base, event.userdata, true)
      events.setUint16(base + 8, event.error, true)
      events.setUint8(base + 10, event.type)
    })
    written.setUint32(0, ready.length, true)
    return ERRNO.SUCCESS
  }
}

/** No exception of ours escapes a WASI call, except the two that end the call on purpose. */
function guard(call: (...args: unknown[]) => number | undefined): (...args: unknown[]) => number {
  return (...args) => {
    try {
      return call(...args) ?? ERRNO.SUCCESS
    } catch (error) {
      if (error instanceof ProcExit || error instanceof DeadlineExceeded) throw error
      return ERRNO.FAULT
    }
  }
}

function formatNs(ns: bigint): string {
  if (ns >= 1_000_000_000n) return `${Number(ns / 1_000_000n) / 1000} s`
  return `${Number(ns / 1000n) / 1000} ms`
}
