/**
 * The call currently running inside the agent: its deadline, what it has
 * asked for (proc_exit, a wait past the deadline), and the stamps the node
 * reads through shared memory (SPEC §11 deadlines).
 *
 * Stamps (`CALL_STAMPS` layout, a BigInt64Array over a SharedArrayBuffer the
 * node creates): the id and monotonic start time of the call in progress, and
 * the id of the last call whose reply has been posted. The node uses them to
 * measure a call from when the agent actually started running, and to know a
 * reply is already on its way when its timer fires late. Only this worker's
 * own code writes them; the agent cannot reach them.
 */
import { readlinkSync } from 'node:fs'
import { DeadlineExceeded, ProcExit } from './errors.js'

export const CALL_STAMPS = { startedId: 0, startedAtNs: 1, doneId: 2, threadId: 3, deadlineNs: 4, cancelled: 5, interrupt: 6, length: 7 } as const

/**
 * The OS thread id of the calling thread (Linux: from /proc/thread-self), or
 * 0 when unknown. The node reads that thread's scheduler statistics to tell a
 * starved call from a running one (see `sandbox/thread-stats.ts`).
 */
function osThreadId(): bigint {
  try {
    const link = readlinkSync('/proc/thread-self')
    const tid = /\/task\/(\d+)$/.exec(link)?.[1]
    return tid === undefined ? 0n : BigInt(tid)
  } catch {
    return 0n
  }
}

export function monotonicNs(): bigint {
  return process.hrtime.bigint()
}

export class CallState {
  private stamps: BigInt64Array | null = null
  private startedAtNs = 0n
  private deadlineAtNs = 0n
  /** Time spent blocked on the node (HTTP, SPEC §13): neither charged nor counted against the deadline. */
  private waitedNs = 0n
  private currentId = 0n
  /** Set by `proc_exit` even if the agent catches the unwinding exception. */
  exit: ProcExit | null = null
  /** Set when the agent asked to wait past its deadline. */
  overran: DeadlineExceeded | null = null

  /**
   * True once the node has given the slot up (`AgentSandbox.terminate`): a
   * request still queued behind another agent's call in a shared worker is
   * then dropped, never run (issue 11).
   */
  cancelled(): boolean {
    return this.stamps !== null && this.stamps.length > CALL_STAMPS.cancelled && Atomics.load(this.stamps, CALL_STAMPS.cancelled) !== 0n
  }

  attachStamps(buffer: SharedArrayBuffer | null): void {
    this.stamps = buffer === null ? null : new BigInt64Array(buffer)
    if (this.stamps !== null && this.stamps.length > CALL_STAMPS.threadId) Atomics.store(this.stamps, CALL_STAMPS.threadId, osThreadId())
  }

  begin(id: number, deadlineMs: number): void {
    this.exit = null
    this.overran = null
    this.startedAtNs = monotonicNs()
    this.waitedNs = 0n
    this.currentId = BigInt(id)
    this.deadlineAtNs = this.startedAtNs + BigInt(Math.max(0, Math.floor(deadlineMs * 1e6)))
    if (this.stamps !== null) {
      if (this.stamps.length > CALL_STAMPS.deadlineNs) Atomics.store(this.stamps, CALL_STAMPS.deadlineNs, 0n)
      Atomics.store(this.stamps, CALL_STAMPS.startedAtNs, this.startedAtNs)
      Atomics.store(this.stamps, CALL_STAMPS.startedId, BigInt(id))
    }
  }

  /**
   * A second phase of the current call with a deadline of its own, counted
   * from now (SPEC §12: the state copy kept after a tick runs under the
   * checkpoint deadline, not the tick's). The node reads the new start and
   * deadline from the stamps; the time stays charged to the call.
   */
  phase(deadlineMs: number): void {
    const now = monotonicNs()
    const deadlineNs = BigInt(Math.max(0, Math.floor(deadlineMs * 1e6)))
    this.deadlineAtNs = now + deadlineNs
    if (this.stamps !== null && this.stamps.length > CALL_STAMPS.deadlineNs) {
      Atomics.store(this.stamps, CALL_STAMPS.deadlineNs, deadlineNs)
      Atomics.store(this.stamps, CALL_STAMPS.startedAtNs, now)
    }
  }

  /** When the call began (`monotonicNs`), the reading `begin` took: the lease re-check before the agent runs uses it (one clock read less). */
  get startedAt(): bigint {
    return this.startedAtNs
  }

  /** Nanoseconds since `begin`, less the time blocked on the node (`excludeWait`). */
  elapsedNs(): bigint {
    return monotonicNs() - this.startedAtNs - this.waitedNs
  }

  /** A wait on the node (SPEC §13 HTTP) is not compute: not charged, and the deadline moves back by as much. */
  excludeWait(ns: bigint): void {
    if (ns <= 0n) return
    this.waitedNs += ns
    this.deadlineAtNs += ns
  }

  /** The full deadline, charged when the call overran it. */
  deadlineNs(): bigint {
    return this.deadlineAtNs - this.startedAtNs - this.waitedNs
  }

  /** Nanoseconds left before the deadline (0 when passed). */
  remainingNs(): bigint {
    const left = this.deadlineAtNs - monotonicNs()
    return left > 0n ? left : 0n
  }

  /** Called just before the reply is posted. */
  end(id: number): void {
    if (this.stamps !== null) Atomics.store(this.stamps, CALL_STAMPS.doneId, BigInt(id))
  }

  /**
   * SPEC §11 "Sharing a thread, fairly": the agent's interruption checks call
   * this (through `igor_internal.interrupt_check`) about every millisecond of
   * compute. When the node has asked to stop the call in progress (its
   * deadline passed, measured by the node with stalls and starvation
   * forgiven) or the agent is being stopped, it throws: the exception unwinds
   * the agent's frames and the call ends as a missed deadline, in this
   * worker, without touching the other agents it hosts.
   */
  pollInterrupt(): void {
    const stamps = this.stamps
    if (stamps === null || stamps.length <= CALL_STAMPS.interrupt) return
    if (Atomics.load(stamps, CALL_STAMPS.interrupt) === this.currentId || Atomics.load(stamps, CALL_STAMPS.cancelled) !== 0n) {
      this.overrun('call interrupted: past its deadline')
    }
  }

  procExit(code: number): never {
    this.exit = new ProcExit(code)
    throw this.exit
  }

  overrun(message: string): never {
    this.overran = new DeadlineExceeded(message)
    throw this.overran
  }
}
