// SPEC §5 tick loop with authority, §11 calls and metering, §12 self-verification: the schedule and
// one pass of the loop — the lease validated before every tick (again right before the dispatch, with
// the absolute deadline sent to the worker, issue 12 item 1), a renewal durable before it is used,
// metering, the periodic checkpoint, and the durable RECOVERY_REQUIRED past expiry + grace.
import { AuthorityError, type Lease, canTick } from '@igor/lease'
import { runtimeEvents } from '../observer.js'
import { SandboxError, type TickResult } from '@igor/sandbox'
import type { Checkpoints } from './checkpoints.js'
import type { Instance } from './instance.js'
import type { LiveAgent } from './live-agent.js'

/** One agent's tick schedule and loop (see the file comment). */
export class TickLoop {
  /** Reused for every tick (the sandbox reads it before its first await and keeps no reference). */
  private readonly tickOptions: { price?: bigint, receipts?: Uint8Array, movePending?: boolean } = {}
  /** The lease clock's reading of the last validation that passed (`leaseHolds`). */
  private validatedAtNs = 0n

  constructor(private readonly agent: LiveAgent, private readonly instance: Instance, private readonly checkpoints: Checkpoints) {}

  schedule(delayMs: number): void {
    if (this.agent.stopped || this.agent.halted !== null) return
    this.agent.cancelTimer()
    this.agent.timer = setTimeout(() => {
      this.agent.timer = null
      void this.agent.mutex.run(() => this.step()).then(
        (next) => { if (next !== null) this.schedule(next) },
        (error: unknown) => this.haltOnError(error)
      )
    }, delayMs)
  }

  /** One pass of the SPEC §5 loop; returns the delay to the next pass, or null to stop. */
  async step(): Promise<number | null> {
    if (this.agent.stopped || this.agent.halted !== null || !canTick(this.agent.lease.state)) return null
    // Whether anything was awaited since the lease was last validated (never on the live path).
    let awaited = false
    if (!this.agent.sandbox.alive) {
      await this.instance.ensureInstance()
      awaited = true
    }
    const held = this.leaseHolds()
    if (held !== true && !await held) return null
    // The validation's own clock reading (one read for both questions).
    if (this.agent.lease.needsRenewal(this.validatedAtNs)) {
      awaited = true
      this.agent.lease.renew()
      // SPEC §5: the renewal is durable before the renewed lease is used.
      await this.checkpoints.saveCheckpoint(true)
      this.agent.log.debug({ epoch: this.agent.lease.epoch.toString(), leaseExpiry: this.agent.lease.expiry.toString() }, 'lease renewed')
      runtimeEvents.renewal(this.agent.agentId)
    }
    if (this.agent.budget <= 0n) {
      await this.checkpoints.haltWithCheckpoint('budget exhausted')
      return null
    }
    // SPEC §15 settlement: the adapter's cached verdict; refused, the loop polls it at the tick interval.
    if (!this.agent.budgetAllowsTick()) return this.agent.timing.tickIntervalMs
    // SPEC §16 moving for price: held until a node within its max takes it or the price drops; polled like the budget.
    if (this.agent.priceHold !== null) return this.agent.timing.tickIntervalMs
    // SPEC §5: a node paused (SIGSTOP, VM freeze) during any await above — the
    // renewal's fsync is the long one — must not tick after it resumes. The lease
    // is validated again with nothing awaited between this check and the dispatch,
    // and the worker gets the absolute deadline, so a pause after this line is
    // caught there (issue 12 item 1).
    // The check is synchronous on the live path (no microtask between it and the post to the worker).
    // With nothing awaited since the validation above (the live path), that validation is this one:
    // only synchronous code ran since, and a pause inside it is caught by the worker's re-check as after a second one.
    if (this.agent.stopped || this.agent.halted !== null) return null
    if (awaited) {
      const holds = this.leaseHolds()
      if (holds !== true && !await holds) return null
    }
    let result: TickResult
    this.agent.lastRecorded = null
    try {
      const options = this.tickOptions
      // SPEC §15: the price as of now, what node_price answers during this tick.
      options.price = this.agent.pricePerSecond
      // SPEC §15 wallet_receipt: the list as written (sent to the worker only when it changed).
      if (this.agent.receipts !== null) options.receipts = this.agent.receipts.blob()
      else if (options.receipts !== undefined) delete options.receipts
      // SPEC §16: while a move it asked for is placed, request_move answers −2.
      options.movePending = this.agent.movePending
      result = await this.agent.sandbox.tick(this.agent.budget, tickDeadline(this.agent.lease, this.agent.nowNs()), options)
    } catch (error) {
      if (error instanceof SandboxError && error.kind === 'deadline') {
        // The worker saw the lease's end pass before agent_tick ran: nothing ran.
        await this.leaseHolds()
        if (this.agent.halted === null) await this.expire()
        return null
      }
      if (error instanceof SandboxError && (error.kind === 'evicted' || error.kind === 'moved')) {
        // Not this agent's fault (or, moved: its state copy needs a thread of its own, SPEC §11):
        // the tick did not complete; restart from the last checkpoint and go on.
        if (error.kind === 'moved') this.agent.charge(error.elapsedNs)
        await this.instance.ensureInstance()
        return this.agent.timing.busyIntervalMs
      }
      if (error instanceof SandboxError) {
        // The instance is gone or suspect; its last good checkpoint stays on disk.
        // SPEC §11: the failed call is still charged (a missed deadline in full).
        this.agent.charge(error.elapsedNs + this.agent.sandbox.takeUncharged())
        this.agent.haltWith(`tick failed: ${error.message}`)
        this.agent.log.error({ kind: error.kind, tickNumber: this.agent.tickNumber.toString() }, `agent halted: ${error.message}; last good checkpoint kept`)
        return null
      }
      throw error
    }
    this.agent.charge(result.elapsedNs + this.agent.sandbox.takeUncharged())
    this.agent.tickNumber += 1n
    if (result.recorded) this.agent.lastRecorded = { tickNumber: this.agent.tickNumber, highestId: result.highestId }
    // SPEC §12: fetch the record of a due tick now (one short message); the replay runs in its own sandbox.
    if (this.agent.verifier !== null && result.recorded && this.agent.verifier.due(result.observations)) {
      const record = await this.agent.sandbox.tickRecord().catch(() => null)
      if (record !== null) this.agent.verifier.submit({ tickNumber: this.agent.tickNumber, ...record })
    }
    this.agent.ticksObserved?.(this.agent.tickNumber)
    runtimeEvents.tick(this.agent.agentId, result.elapsedNs)
    if (result.moveRequest !== undefined) {
      // SPEC §16 "The agent decides": placed after this tick, by whoever observes the request (igord's AutoPlacer).
      this.agent.movePending = true
      this.agent.log.info({ maxPricePerSecond: result.moveRequest.toString(), tickNumber: this.agent.tickNumber.toString() }, `agent asked to move (request_move, max ${result.moveRequest} microcents per second)`)
      runtimeEvents.moveRequest(this.agent.agentId, result.moveRequest)
    }
    if (this.agent.budget <= 0n) {
      await this.checkpoints.haltWithCheckpoint('budget exhausted')
      return null
    }
    if (performance.now() - this.agent.lastCheckpointAt >= this.agent.timing.checkpointIntervalMs) {
      await this.checkpoints.saveCheckpoint(true)
      await this.instance.graduate()
    }
    return result.more ? this.agent.timing.busyIntervalMs : this.agent.timing.tickIntervalMs
  }

  /**
   * validateForTick(): true, synchronously, when it passes (the live path: no
   * microtask between the check and the post to the worker); past expiry +
   * grace, the durable expiry path runs and the promise answers false; any
   * other refusal rejects.
   */
  private leaseHolds(): true | Promise<boolean> {
    try {
      this.validatedAtNs = this.agent.lease.validateForTick()
      return true
    } catch (error) {
      return this.refused(error)
    }
  }

  private async refused(error: unknown): Promise<boolean> {
    if (error instanceof AuthorityError && error.code === 'LEASE_EXPIRED') {
      await this.expire()
      return false
    }
    throw error
  }

  /** Like leaseHolds, but rethrows the refusal after the expiry is durable and logged (for operator actions). */
  async validateOrExpire(): Promise<void> {
    try {
      this.agent.lease.validateForTick()
    } catch (error) {
      if (error instanceof AuthorityError && error.code === 'LEASE_EXPIRED') await this.expire()
      throw error
    }
  }

  /** SPEC §5 expiry: RECOVERY_REQUIRED (durable), final checkpoint, log line, no more ticks. */
  private async expire(): Promise<void> {
    const reason = 'lease expired beyond grace'
    this.agent.lease.enterRecovery(reason)
    this.agent.cancelTimer()
    await this.checkpoints.writeAuthority(reason)
    this.agent.haltWith(reason)
    await this.checkpoints.trySaveCheckpoint('lease expiry')
    this.agent.log.error({ epoch: this.agent.lease.epoch.toString() }, 'lease expired beyond grace; agent stopped until recovered')
  }

  haltOnError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error)
    this.agent.haltWith(`stopped: ${message}`)
    this.agent.log.error({ code: (error as { code?: string }).code }, `agent halted: ${message}`)
  }

  /** `--replay-on-divergence pause`: halt with the reason, off the tick path, keeping a final checkpoint. */
  pauseForReplay(reason: string): void {
    void this.agent.mutex.run(async () => {
      if (this.agent.stopped || this.agent.halted !== null) return
      this.agent.cancelTimer()
      await this.checkpoints.haltWithCheckpoint(reason)
    }).catch((error: unknown) => this.haltOnError(error))
  }
}

/** A lease configuration's grace in ns, worked out once (not per tick). */
const graceNsOf = new WeakMap<object, bigint>()

/**
 * The absolute end of the right to tick, on the process-wide monotonic clock
 * (`process.hrtime.bigint()`, the same in every worker thread and still running
 * while the process is stopped): lease expiry + grace, as seen now. Null with
 * leases disabled.
 */
function tickDeadline(lease: Lease, nowNs: bigint): bigint | null {
  const config = lease.config
  if (config === null) return null
  let graceNs = graceNsOf.get(config)
  if (graceNs === undefined) {
    graceNs = BigInt(Math.round(config.gracePeriodMs * 1e6))
    graceNsOf.set(config, graceNs)
  }
  const remainingNs = lease.expiry + graceNs - nowNs
  return process.hrtime.bigint() + remainingNs
}
