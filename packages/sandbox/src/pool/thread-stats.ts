/**
 * SPEC §11 deadlines on a loaded machine. When a call's deadline passes, the
 * node does not yet know whether the agent ran all that time or its thread
 * sat on the run queue behind other processes (a 2-core machine with a load
 * of 15 starves a thread for well over 100 ms). Linux reports, per thread,
 * the CPU time it got and the time it waited to run
 * (`/proc/<pid>/task/<tid>/schedstat`). The sandbox samples both over a short
 * probe: a thread that waited to run and got (almost) no CPU is starved, and
 * its deadline is extended by the probe; a thread that got CPU and still did
 * not answer is running past its deadline, and one that neither ran nor
 * waited is sleeping or stuck: both are stopped. The agent cannot fake
 * starvation: it can only use CPU (which counts against it) or sleep (which
 * does not look like waiting to run).
 */
import { readFileSync } from 'node:fs'

export interface ThreadSample {
  /** Nanoseconds on a CPU. */
  readonly cpuNs: bigint
  /** Nanoseconds runnable but waiting for a CPU. */
  readonly waitNs: bigint
}

/** How long one probe lasts. */
export const PROBE_MS = 20
/** At most this much starvation is forgiven per call, however loaded the machine. */
export const MAX_STARVATION_FORGIVEN_MS = 10_000

/** The thread's scheduler statistics, or null where the OS does not provide them. */
export function sampleThread(tid: bigint): ThreadSample | null {
  if (tid <= 0n) return null
  try {
    const [cpu, wait] = readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, 'latin1').trim().split(/\s+/)
    if (cpu === undefined || wait === undefined) return null
    return { cpuNs: BigInt(cpu), waitNs: BigInt(wait) }
  } catch {
    return null
  }
}

/** Starved = during the probe the thread waited for a CPU most of the time and ran under 1 ms. */
export function starvedDuring(before: ThreadSample, after: ThreadSample, probeNs: bigint): boolean {
  const ran = after.cpuNs - before.cpuNs
  const waited = after.waitNs - before.waitNs
  return ran < 1_000_000n && waited * 2n >= probeNs
}
