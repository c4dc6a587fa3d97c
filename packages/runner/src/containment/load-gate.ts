/**
 * SPEC §11 failure containment: an agent under suspicion (the node died inside
 * its call, possibly beside others) loads alone — no other load runs at the
 * same time — so that if it kills the node again, the call marker names it
 * and only it. Every other agent loads in parallel with its peers.
 */
export class LoadGate {
  private shared = 0
  private soloRunning = false
  private soloWaiting = 0
  private waiters: Array<() => void> = []

  async run<T>(solo: boolean, load: () => Promise<T>): Promise<T> {
    if (solo) {
      this.soloWaiting++
      await this.enterWhen(() => !this.soloRunning && this.shared === 0, () => { this.soloWaiting--; this.soloRunning = true })
      try {
        return await load()
      } finally {
        this.soloRunning = false
        this.wake()
      }
    }
    // Suspects waiting go first, so a stream of ordinary loads cannot starve them.
    await this.enterWhen(() => !this.soloRunning && this.soloWaiting === 0, () => { this.shared++ })
    try {
      return await load()
    } finally {
      this.shared--
      this.wake()
    }
  }

  /** Checks and enters in the same synchronous step, so two waiters woken together cannot both enter. */
  private async enterWhen(ready: () => boolean, enter: () => void): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => this.waiters.push(resolve))
    enter()
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }
}
