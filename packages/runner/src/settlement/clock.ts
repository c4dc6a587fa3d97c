// SPEC §15 settlement timing: the monotonic clock the budget cache's "at most every 10 s" is measured
// on, the wall clock of outbox entries (their age survives a restart), and the retry timer — injected,
// so tests run them by hand.
export interface SettlementClock {
  /** Monotonic ms. */
  nowMs(): number
  /** Wall-clock Unix ms. */
  wallMs(): number
  /** Runs `fn` after `ms`; the returned function cancels it. Must not keep the process alive. */
  after(ms: number, fn: () => void): () => void
}

export const systemSettlementClock: SettlementClock = {
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms)
    timer.unref()
    return () => { clearTimeout(timer) }
  }
}
