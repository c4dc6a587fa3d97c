// SPEC §5 / issue 21 item 5: what the first tick need not wait for (prom-client, libp2p) waits for it.
import { type RuntimeObserver, observeRuntime } from '@igor/runner'

/**
 * Seen-or-not of the node's first completed tick. Created before the agents
 * load; `wait` lets the daemon start work that costs the main thread tens to
 * hundreds of milliseconds (loading prom-client, importing libp2p) only once a
 * tick has completed, so that work never sits between a restart and its
 * first tick. It never blocks a node whose agents do not tick: it answers at
 * once when none is ticking, and after `capMs` in any case.
 */
export class FirstTick {
  private seen = false
  private wake: (() => void) | null = null
  private off: (() => void) | null

  constructor(observe: (observer: RuntimeObserver) => () => void = observeRuntime) {
    this.off = null
    this.off = observe({
      onTick: () => {
        if (this.seen) return
        this.seen = true
        this.wake?.()
      }
    })
  }

  /**
   * Resolves once a tick has completed here (then one turn of the event loop
   * later, so that tick's own lines and follow-up come first), at once when
   * `anyTicking()` says no agent is ticking, or after `capMs`. Stops observing.
   */
  async wait(anyTicking: () => boolean, capMs = 1000): Promise<void> {
    if (!this.seen && anyTicking()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.wake = null; resolve() }, capMs)
        this.wake = () => { clearTimeout(timer); this.wake = null; resolve() }
      })
    }
    this.close()
    await new Promise((resolve) => setImmediate(resolve))
  }

  /** Stops observing (idempotent). */
  close(): void {
    this.off?.()
    this.off = null
  }
}
