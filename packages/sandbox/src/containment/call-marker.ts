import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/**
 * SPEC §11 failure containment: which agent was loading or inside a call when
 * the node process died.
 *
 * One pre-opened file per node, `<dataDir>/calls.inflight`, with one fixed-size
 * slot per agent. Before each call into an agent the slot's first byte is set
 * to the call, after it back to 0, each with one positional `write(2)` and no
 * fsync: the bytes live in the page cache, which survives the death of the
 * process (SIGKILL, V8 fatal error, abort) though not a machine crash. A
 * machine crash only loses evidence, which errs on the side of never
 * quarantining. A clean shutdown leaves every slot at 0 and empties the file.
 *
 * Slot layout (SLOT_BYTES): [0] call (0 = none), [1] id length, [2…] id (ASCII).
 */

export const MARKER_FILE = 'calls.inflight'
/** The longest agent id a node accepts (SPEC §5); a marker slot has room for it. */
export const MAX_AGENT_ID_LENGTH = 128

const SLOT_BYTES = 2 + MAX_AGENT_ID_LENGTH + 6 // 136: a round size with room for the longest id

/** What an agent was doing; the text is the tail of `node died while …`. */
export type AgentCall = 'loading' | 'agent_tick' | 'agent_checkpoint'
const CALL_CODES: Record<AgentCall, number> = { loading: 1, agent_tick: 2, agent_checkpoint: 3 }
const CALL_NAMES: Record<number, AgentCall> = { 1: 'loading', 2: 'agent_tick', 3: 'agent_checkpoint' }

export function describeCall(call: AgentCall): string {
  return call === 'loading' ? 'loading' : `in ${call}`
}

/**
 * SPEC §11 "a call is inside from the moment the worker starts it": what a
 * worker needs to mark an agent's ticks and checkpoints itself, right before
 * it runs them, so a call queued behind another agent's in a shared worker is
 * never marked. `fd` is this marker's file (process-wide); `flags[0]` is 1 once
 * the marker is silenced or closed, and the worker writes nothing after that.
 */
export interface WorkerMarks {
  readonly fd: number
  readonly position: number
  readonly flags: SharedArrayBuffer
  readonly codes: { readonly agent_tick: number, readonly agent_checkpoint: number }
  /** The test-only abort hook (`IGOR_TEST_ABORT_IN`), for the worker to apply after it marks. */
  readonly abortIn: AgentCall | null
  /**
   * This sandbox's own (one per `inWorker`): [0] = 1 from just before the
   * worker marks a call until just after its clear is written. The worker
   * clears a call's mark after posting the reply (off the node's critical
   * path), so the node may already hold the reply while the clear is still to
   * come: the slot is not reused, and the node writes nothing into it, until
   * this reads 0 (see `CallMarker.release` and `enter`).
   */
  readonly busy: SharedArrayBuffer
}

/** One `inWorker` handed out: its busy flag, and whether its sandbox has been released. */
interface Incarnation { readonly busy: Int32Array, released: boolean }

/** How long the node waits, in all, for workers' pending clears (before it writes into a slot, opens a suspect's window, closes the file): a thread that was killed never clears. */
const PENDING_CLEAR_WAIT_MS = 20

/** A call the previous process was inside when it died. */
export interface DiedInCall { readonly agentId: string, readonly call: AgentCall }

/**
 * Test-only hook (documented in the runner README): `IGOR_TEST_ABORT_IN=<agentId>:<call>`
 * kills the process with SIGKILL right after the marker for that call is set,
 * standing in for an engine fault that takes the whole process down.
 */
function testAbortHook(): { agentId: string, call: AgentCall } | null {
  const spec = process.env.IGOR_TEST_ABORT_IN
  if (spec === undefined || spec === '') return null
  const at = spec.lastIndexOf(':')
  const call = spec.slice(at + 1)
  if (at <= 0 || !(call in CALL_CODES)) return null
  return { agentId: spec.slice(0, at), call: call as AgentCall }
}

export class CallMarker {
  private readonly slots = new Map<string, number>()
  private readonly current = new Map<string, number>()
  /** Slots given up, each with the busy flags of the sandboxes that marked in it: reused once all read 0. */
  private readonly free: Array<{ readonly slot: number, readonly incarnations: readonly Incarnation[] }> = []
  /** Per slot in use: the sandboxes whose workers mark in it (`inWorker`), released or not. */
  private readonly incarnations = new Map<number, Incarnation[]>()
  private next = 0
  private readonly one = Buffer.alloc(1)
  private readonly abortIn = testAbortHook()
  private silenced = false
  /** Calls in flight per agent (`around`), and the open `alone` window. */
  private readonly busy = new Map<string, number>()
  private window: { readonly agentId: string, readonly closed: Promise<void>, readonly close: () => void } | null = null
  private drained: (() => void) | null = null
  /** Shared with workers marking calls themselves (`inWorker`): [0] = 1 once silenced or closed. */
  private readonly flags = new Int32Array(new SharedArrayBuffer(4))

  private constructor(private fd: number | null) {}

  /**
   * Reads what the previous process left (the calls it died in), then starts
   * an empty file for this one. Must run before any agent is loaded, while
   * this process holds the data directory (the control socket is its lock).
   */
  static open(dataDir: string): { marker: CallMarker, died: DiedInCall[] } {
    const path = join(dataDir, MARKER_FILE)
    const died = parseSlots(readIfExists(path))
    return { marker: new CallMarker(openSync(path, 'w', 0o600)), died }
  }

  /** A marker that writes nothing (a node without a data directory of its own, e.g. some tests). */
  static disabled(): CallMarker {
    return new CallMarker(null)
  }

  /** Sets `agentId`'s slot to `call` (taking a slot on first use); returns what was there, for `leave`. */
  enter(agentId: string, call: AgentCall): number {
    if (this.silenced) return 0
    const slot = this.slotOf(agentId)
    // A worker's late clear of an earlier call in this slot (a sandbox being replaced) must land before this mark.
    this.awaitClears(slot)
    const before = this.current.get(agentId) ?? 0
    this.set(agentId, slot, CALL_CODES[call])
    if (this.abortIn !== null && this.abortIn.agentId === agentId && this.abortIn.call === call) process.kill(process.pid, 'SIGKILL')
    return before
  }

  /** Where a worker marks `agentId`'s calls itself (null when this marker writes nothing). */
  inWorker(agentId: string): WorkerMarks | null {
    if (this.fd === null || this.silenced) return null
    const slot = this.slotOf(agentId)
    const busy = new Int32Array(new SharedArrayBuffer(4))
    let list = this.incarnations.get(slot)
    if (list === undefined) {
      list = []
      this.incarnations.set(slot, list)
    }
    list.push({ busy, released: false })
    return {
      fd: this.fd,
      position: slot * SLOT_BYTES,
      flags: this.flags.buffer,
      codes: { agent_tick: CALL_CODES.agent_tick, agent_checkpoint: CALL_CODES.agent_checkpoint },
      abortIn: this.abortIn !== null && this.abortIn.agentId === agentId ? this.abortIn.call : null,
      busy: busy.buffer
    }
  }

  /**
   * True when no worker is inside a call of `agentId`'s or still to write
   * the clear of one (tests: a reply can arrive a few µs before its clear).
   */
  settled(agentId: string): boolean {
    const slot = this.slots.get(agentId)
    return slot === undefined || (this.incarnations.get(slot) ?? []).every((one) => Atomics.load(one.busy, 0) === 0)
  }

  /** Back to what was marked before `enter` (0: no call). */
  leave(agentId: string, before = 0): void {
    if (this.silenced) return
    const slot = this.slots.get(agentId)
    if (slot === undefined) return
    this.set(agentId, slot, before)
  }

  /**
   * Runs `call` with the marker set around it. While another agent's `alone`
   * window is open, the call waits for it to close first.
   */
  around<T>(agentId: string, call: AgentCall, run: () => Promise<T>, write = true): Promise<T> {
    // write = false (the worker marks the call itself when it starts it, WorkerMarks) and no window
    // to wait for: the tick path, counted with one promise reaction instead of two async frames.
    if (!write && (this.silenced || this.window === null || this.window.agentId === agentId)) {
      this.busy.set(agentId, (this.busy.get(agentId) ?? 0) + 1)
      let running: Promise<T>
      try {
        running = run()
      } catch (error) {
        this.done(agentId)
        return Promise.reject(error instanceof Error ? error : new Error(String(error)))
      }
      return running.then((value) => {
        this.done(agentId)
        return value
      }, (error: unknown) => {
        this.done(agentId)
        throw error
      })
    }
    return this.aroundWaiting(agentId, call, run, write)
  }

  private async aroundWaiting<T>(agentId: string, call: AgentCall, run: () => Promise<T>, write: boolean): Promise<T> {
    while (!this.silenced && this.window !== null && this.window.agentId !== agentId) await this.window.closed
    this.busy.set(agentId, (this.busy.get(agentId) ?? 0) + 1)
    const before = write ? this.enter(agentId, call) : 0
    try {
      return await run()
    } finally {
      if (write) this.leave(agentId, before)
      this.done(agentId)
    }
  }

  /** A call of `agentId`'s has returned (`around`). */
  private done(agentId: string): void {
    const left = (this.busy.get(agentId) ?? 1) - 1
    if (left === 0) this.busy.delete(agentId)
    else this.busy.set(agentId, left)
    if (this.drained !== null && !this.othersBusy()) this.drained()
  }

  /**
   * SPEC §11 suspects: runs `run` (a suspect's load and first tick) with no
   * other agent inside a call. The window opens once the other agents' calls
   * in flight have returned, and their new calls wait until it closes, so a
   * death inside it is marked against `agentId` alone — exact evidence, not a
   * guess. One window at a time. It closes after `maxMs` even if `run` has
   * not finished (the others' calls go on, and a death after that counts
   * against them too, as without a window): held calls include lease
   * renewals, so the caller keeps the pause well inside a lease.
   */
  async alone<T>(agentId: string, run: () => Promise<T>, maxMs = Number.POSITIVE_INFINITY): Promise<T> {
    while (!this.silenced && this.window !== null) await this.window.closed
    if (this.silenced) return run()
    let close = (): void => undefined
    const closed = new Promise<void>((resolve) => { close = resolve })
    const window = { agentId, closed, close }
    this.window = window
    const end = (): void => {
      if (this.window === window) {
        this.window = null
        this.drained = null
      }
      close()
    }
    const timer = Number.isFinite(maxMs) ? setTimeout(end, maxMs) : null
    timer?.unref()
    try {
      if (this.othersBusy()) await Promise.race([new Promise<void>((resolve) => { this.drained = resolve }), closed])
      // Their replies are in; their workers' clears follow within µs: a death from here on is marked against agentId alone.
      this.awaitOthersClears(agentId)
      return await run()
    } finally {
      if (timer !== null) clearTimeout(timer)
      end()
    }
  }

  /** Whether an agent other than the open window's is inside a call. */
  private othersBusy(): boolean {
    for (const agentId of this.busy.keys()) if (agentId !== this.window?.agentId) return true
    return false
  }

  /**
   * The agent is gone from this node: its slot is cleared, and reused once
   * every worker that marked in it has written its last clear. `marks` (one
   * sandbox's, from `inWorker`): only that sandbox is gone, and the slot stays
   * while another sandbox of the agent (its replacement) still marks in it.
   */
  release(agentId: string, marks?: WorkerMarks | null): void {
    const slot = this.slots.get(agentId)
    if (slot === undefined) return
    const list = this.incarnations.get(slot) ?? []
    if (marks !== undefined && marks !== null) {
      for (const one of list) if (one.busy.buffer === marks.busy) one.released = true
      if (list.some((one) => !one.released)) return
    }
    this.write(Buffer.alloc(SLOT_BYTES), slot * SLOT_BYTES)
    this.slots.delete(agentId)
    this.current.delete(agentId)
    this.incarnations.delete(slot)
    this.free.push({ slot, incarnations: list })
  }

  /**
   * SPEC §11: waits (briefly, this thread) until no worker is still to write
   * a clear into `slot`, so that a late clear cannot erase what the node
   * writes next. A sandbox being replaced has already answered its last call;
   * its clear is µs away, or never comes (its thread was killed): bounded.
   */
  private awaitClears(slot: number): void {
    const list = this.incarnations.get(slot)
    if (list === undefined) return
    awaitZero(list)
    // Released sandboxes are forgotten here: their clears are written, or their threads are gone.
    this.incarnations.set(slot, list.filter((one) => !one.released))
  }

  /** Every sandbox's clear written, but those of `agentId`'s slot (bounded, as `awaitClears`). */
  private awaitOthersClears(agentId: string): void {
    const own = this.slots.get(agentId)
    const others: Incarnation[] = []
    for (const [slot, list] of this.incarnations) if (slot !== own) others.push(...list)
    awaitZero(others)
  }

  /**
   * Shutdown has begun: from now on no call is marked and every slot is
   * cleared. An operator who loses patience with the final checkpoints and
   * sends kill -9 is not an agent's fault (SPEC §11); an agent that really
   * kills the node does it again at the next start, where it is counted.
   */
  silence(): void {
    this.silenced = true
    Atomics.store(this.flags, 0, 1)
    this.window?.close() // the final checkpoints do not wait for a suspect's window
    for (const slot of this.slots.values()) {
      this.one[0] = 0
      this.write(this.one, slot * SLOT_BYTES)
    }
    this.current.clear()
  }

  /** Clean shutdown: no call is in flight any more, so the file is emptied and closed. */
  close(): void {
    if (this.fd === null) return
    Atomics.store(this.flags, 0, 1)
    // A worker still to write a clear must not write after the fd is closed (its number could be reused).
    awaitZero([...this.incarnations.values()].flat())
    const fd = this.fd
    this.fd = null
    try {
      ftruncateSync(fd, 0)
    } catch {
      // the slots stay; they are all 0 after a clean stop, which means the same
    }
    closeSync(fd)
  }

  private slotOf(agentId: string): number {
    let slot = this.slots.get(agentId)
    if (slot !== undefined) return slot
    slot = this.reusable() ?? this.next++
    this.slots.set(agentId, slot)
    const bytes = Buffer.alloc(SLOT_BYTES)
    bytes[1] = bytes.write(agentId, 2, 'latin1')
    this.write(bytes, slot * SLOT_BYTES)
    return slot
  }

  /**
   * A given-up slot none of whose workers is still inside a call or to write
   * a clear (a late clear must not land in another agent's slot). A slot
   * whose worker was killed inside a call stays given up: a slot of the file
   * (136 bytes) per such death.
   */
  private reusable(): number | undefined {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const entry = this.free[i] as { slot: number, incarnations: readonly Incarnation[] }
      if (entry.incarnations.every((one) => Atomics.load(one.busy, 0) === 0)) {
        this.free.splice(i, 1)
        return entry.slot
      }
    }
    return undefined
  }

  private set(agentId: string, slot: number, code: number): void {
    if (code === 0) this.current.delete(agentId)
    else this.current.set(agentId, code)
    this.one[0] = code
    this.write(this.one, slot * SLOT_BYTES)
  }

  private write(bytes: Buffer, position: number): void {
    if (this.fd === null) return
    try {
      writeSync(this.fd, bytes, 0, bytes.byteLength, position)
    } catch {
      // The marker is evidence for the next start, never a reason to stop this one.
    }
  }
}

/**
 * Waits on this thread, at most PENDING_CLEAR_WAIT_MS in all, until every
 * busy flag reads 0 (a worker's clear written). A flag of a thread that was
 * killed inside a call never does: the wait is bounded.
 */
function awaitZero(incarnations: readonly Incarnation[]): void {
  const until = performance.now() + PENDING_CLEAR_WAIT_MS
  for (const { busy } of incarnations) {
    while (Atomics.load(busy, 0) !== 0) {
      const left = until - performance.now()
      if (left <= 0) return
      Atomics.wait(busy, 0, 1, left)
    }
  }
}

function readIfExists(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch {
    return Buffer.alloc(0)
  }
}

function parseSlots(bytes: Buffer): DiedInCall[] {
  const died: DiedInCall[] = []
  for (let offset = 0; offset + SLOT_BYTES <= bytes.byteLength; offset += SLOT_BYTES) {
    const call = CALL_NAMES[bytes[offset] as number]
    const length = bytes[offset + 1] as number
    if (call === undefined || length === 0 || length > MAX_AGENT_ID_LENGTH) continue
    died.push({ agentId: bytes.toString('latin1', offset + 2, offset + 2 + length), call })
  }
  return died
}

/** The calls of a sandbox that run agent code; `tick` and `checkpoint` are what the tick loop uses. */
interface MarkableSandbox {
  tick: (...args: never[]) => Promise<unknown>
  checkpoint: (...args: never[]) => Promise<unknown>
  terminate: () => Promise<void>
  /** SPEC §11: the worker marks the sandbox's calls when it starts them. */
  markInWorker?: (marks: WorkerMarks) => void
}

/**
 * Marks every call the node makes through `sandbox` (SPEC §11). The methods
 * are replaced on the instance, so the tick loop and the sandbox stay unaware
 * of the marker; terminating the sandbox frees the agent's slot.
 */
export function markCalls<S extends MarkableSandbox>(sandbox: S, agentId: string, marker: CallMarker): S {
  const tick = sandbox.tick.bind(sandbox)
  const checkpoint = sandbox.checkpoint.bind(sandbox)
  const terminate = sandbox.terminate.bind(sandbox)
  // SPEC §11: marked by the worker when it starts the call, not here when it is queued.
  const marks = sandbox.markInWorker === undefined ? null : marker.inWorker(agentId)
  if (marks !== null) sandbox.markInWorker?.(marks)
  const write = marks === null
  Object.assign(sandbox, {
    // Plain functions (the sandbox's methods are async: they never throw synchronously): no promise hop of their own on the tick path.
    tick: (...args: never[]) => marker.around(agentId, 'agent_tick', () => tick(...args), write),
    checkpoint: (...args: never[]) => marker.around(agentId, 'agent_checkpoint', () => checkpoint(...args), write),
    terminate: async () => {
      try {
        await terminate()
      } finally {
        marker.release(agentId, marks)
      }
    }
  })
  return sandbox
}
