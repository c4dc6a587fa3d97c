/**
 * Self-verification on the running node (SPEC §12): every `verifyInterval`-th
 * tick that made observations is replayed in a separate sandbox, off the tick
 * path — the tick loop only hands over the tick's record and goes on; the
 * replay's outcome arrives later and applies the divergence policy.
 *
 * At most one replay per agent runs at a time; a tick that comes due while
 * one is running is skipped (counted), so a slow replay can never pile up
 * work or memory behind the agent.
 */
import type { Logger, SandboxLimits, WorkerSetup } from '@igor/sandbox'
import type { ReplaySettings } from './flags.js'
import { type ReplayOutcome, describeReplayOutcome, replayTick } from './replay-tick.js'

/** What the live worker kept of one tick: the state before and after it, and its event log (packed). */
export interface TickRecord {
  readonly tickNumber: bigint
  readonly pre: Uint8Array
  readonly post: Uint8Array
  readonly log: Uint8Array
}

export interface SelfVerifierOptions {
  readonly settings: ReplaySettings
  readonly setup: WorkerSetup
  readonly logger: Logger
  readonly limits?: Partial<SandboxLimits>
  /** `--replay-on-divergence pause`: the host halts the agent with this reason. */
  readonly pause: (reason: string) => void
}

export interface SelfVerifierStats {
  verified: number
  failed: number
  skipped: number
}

export class SelfVerifier {
  readonly stats: SelfVerifierStats = { verified: 0, failed: 0, skipped: 0 }
  private interval: number
  private observing = 0
  private running: Promise<void> | null = null
  private closed = false

  constructor(private readonly options: SelfVerifierOptions) {
    this.interval = options.settings.verifyInterval
  }

  /** The current interval (1 after an `intensify` divergence). */
  get verifyInterval(): number {
    return this.interval
  }

  /** After a tick: whether its record should be fetched and submitted. Ticks without observations do not count. */
  due(observations: number): boolean {
    if (this.closed || observations === 0) return false
    this.observing += 1
    if (this.observing < this.interval) return false
    this.observing = 0
    if (this.running !== null) {
      this.stats.skipped += 1
      return false
    }
    return true
  }

  /** Starts the replay of `record` in its own sandbox; returns at once. */
  submit(record: TickRecord): void {
    if (this.closed || this.running !== null) return
    const run = replayTick({
      setup: this.options.setup,
      tickNumber: record.tickNumber,
      preState: record.pre,
      log: record.log,
      expectedState: record.post,
      ...(this.options.limits !== undefined ? { limits: this.options.limits } : {})
    }).then((outcome) => this.settle(outcome), (error: unknown) => {
      this.options.logger.warn({ tickNumber: record.tickNumber.toString() }, `replay could not run: ${error instanceof Error ? error.message : String(error)}`)
    }).finally(() => { this.running = null })
    this.running = run
  }

  /** Resolves when no replay is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running
  }

  close(): void {
    this.closed = true
  }

  private settle(outcome: ReplayOutcome): void {
    if (this.closed) return
    const log = this.options.logger
    const tickNumber = outcome.tickNumber.toString()
    if (outcome.verified) {
      this.stats.verified += 1
      log.debug({ tickNumber, ms: Math.round(outcome.ms * 1000) / 1000 }, 'replay verified')
      return
    }
    const what = describeReplayOutcome(outcome)
    if ('skipped' in outcome) {
      // SPEC §11: the replay ran out of its own resources; nothing is known about the tick.
      this.stats.skipped += 1
      log.warn({ tickNumber }, what)
      return
    }
    this.stats.failed += 1
    log.error({ tickNumber, policy: this.options.settings.onDivergence }, what)
    switch (this.options.settings.onDivergence) {
      case 'pause':
        this.closed = true
        this.options.pause(`replay divergence at tick ${outcome.tickNumber}`)
        break
      case 'intensify':
        if (this.interval !== 1) log.warn({ tickNumber }, 'replay divergence: verifying every observing tick from now on')
        this.interval = 1
        this.observing = 0
        break
      case 'log':
        break
    }
  }
}
