/**
 * Measures whether the node process itself was paused (SIGSTOP, VM freeze),
 * independently of any agent's traffic (SPEC §11: nothing the agent does can
 * postpone its own deadline).
 *
 * A tiny watchdog thread wakes every `PERIOD_MS` (Atomics.wait with a timeout)
 * and stamps the monotonic clock into a SharedArrayBuffer. When the process is
 * stopped, no thread runs, so its stamps show a gap; a busy main event loop
 * (e.g. an agent flooding the log) does not stop the watchdog and creates no
 * gap. Lateness of its wake-ups above `GAP_THRESHOLD_MS` is summed as
 * "stalled" time, which the sandbox forgives inside a call's window. On an
 * overloaded machine the watchdog's wake-ups run late too, so run-queue
 * starvation of the agent's thread is forgiven in proportion; the agent cannot
 * create lateness except by using CPU, and forgiveness never exceeds measured
 * lateness, so a call that keeps running still reaches its deadline.
 */
import { Worker } from 'node:worker_threads'

export const PERIOD_MS = 10
/** Wake-up jitter below this is not a stall. */
export const GAP_THRESHOLD_MS = 2

const SLOT_LAST_STAMP = 0
const SLOT_STALLED = 1

const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads')
const slots = new BigInt64Array(workerData.buffer)
const sleeper = new Int32Array(new SharedArrayBuffer(4))
const period = BigInt(workerData.periodMs) * 1000000n
const threshold = BigInt(workerData.thresholdMs) * 1000000n
let last = process.hrtime.bigint()
Atomics.store(slots, ${SLOT_LAST_STAMP}, last)
for (;;) {
  Atomics.wait(sleeper, 0, 0, workerData.periodMs)
  const now = process.hrtime.bigint()
  const gap = now - last - period
  if (gap > threshold) Atomics.add(slots, ${SLOT_STALLED}, gap)
  Atomics.store(slots, ${SLOT_LAST_STAMP}, now)
  last = now
}
`

/** Where the sandbox reads time and stalls from; tests substitute a fake. */
export interface StallClock {
  /** Monotonic nanoseconds (the same clock the worker stamps calls with). */
  nowNs(): bigint
  /** Total nanoseconds the process has been seen stopped, including a gap in progress; `nowNs`: a reading of `nowNs()` just taken. */
  stalledNs(nowNs?: bigint): bigint
  /** True when `nowNs()` is `process.hrtime.bigint()` (a reading of that clock taken for another check can serve). */
  readonly processHrtime?: boolean
}

class WatchdogStallClock implements StallClock {
  readonly processHrtime = true
  private readonly slots = new BigInt64Array(new SharedArrayBuffer(16))
  private worker: Worker | null = null

  start(): void {
    if (this.worker !== null) return
    try {
      this.worker = new Worker(WATCHDOG_SOURCE, {
        eval: true,
        workerData: { buffer: this.slots.buffer, periodMs: PERIOD_MS, thresholdMs: GAP_THRESHOLD_MS },
        resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 1, stackSizeMb: 1 }, // 4 MiB cannot hold Node's worker bootstrap: ERR_WORKER_OUT_OF_MEMORY at every start
        stdout: false,
        stderr: false
      })
      this.worker.unref()
      // Without a watchdog no stall is ever forgiven: stricter, never looser.
      this.worker.on('error', () => { this.worker = null })
    } catch {
      this.worker = null
    }
  }

  nowNs(): bigint {
    return process.hrtime.bigint()
  }

  stalledNs(nowNs?: bigint): bigint {
    const recorded = Atomics.load(this.slots, SLOT_STALLED)
    const last = Atomics.load(this.slots, SLOT_LAST_STAMP)
    if (last === 0n || this.worker === null) return recorded
    // The watchdog has not stamped since the process resumed: the gap so far counts too.
    const ongoing = (nowNs ?? this.nowNs()) - last - BigInt(PERIOD_MS + GAP_THRESHOLD_MS) * 1_000_000n
    return recorded + (ongoing > 0n ? ongoing : 0n)
  }
}

const watchdog = new WatchdogStallClock()

/** The process-wide stall clock; starts its watchdog thread on first use. */
export function processStallClock(): StallClock {
  watchdog.start()
  return watchdog
}

export type DeadlineVerdict =
  | { readonly action: 'wait', readonly ms: number }
  | { readonly action: 'expired' }
  /** The worker already posted its reply; it is on its way. */
  | { readonly action: 'reply-pending' }
  /** The worker has not begun the call: nothing of the agent has run yet. */
  | { readonly action: 'not-started' }

/**
 * What to do when a call's timer fires. `startedAtNs` is when the worker
 * started the call (or when it was posted, if it has not started);
 * `stalledNs` is the stall time measured inside the call's window.
 */
export function deadlineVerdict(input: { nowNs: bigint, startedAtNs: bigint, deadlineNs: bigint, stalledNs: bigint, replied: boolean, started?: boolean }): DeadlineVerdict {
  if (input.replied) return { action: 'reply-pending' }
  // No agent code runs between calls, so a call the worker has not started yet
  // is the node's or the OS's delay, never the agent's: wait for it (the
  // sandbox bounds how long, as an unresponsive worker).
  if (input.started === false) return { action: 'not-started' }
  const elapsed = input.nowNs - input.startedAtNs - (input.stalledNs > 0n ? input.stalledNs : 0n)
  if (elapsed >= input.deadlineNs) return { action: 'expired' }
  return { action: 'wait', ms: Math.max(1, Math.ceil(Number(input.deadlineNs - elapsed) / 1e6)) }
}
