import type { Epoch } from '@igor/epoch'
import { AuthorityError, AuthorityState, canTick } from '@igor/lease'
import { RunnerError } from './errors.js'
import { runtimeEvents } from './observer.js'
import { Checkpoints } from './host/checkpoints.js'
import { HandoffSource } from './host/handoff-source.js'
import { Instance } from './host/instance.js'
import { LiveAgent } from './host/live-agent.js'
import { TickLoop } from './host/tick-loop.js'
import type { AgentHostInit, AgentModule, AgentStatus, HandoffSnapshot, ReceiptsSnapshot } from './host/types.js'
import { readPaymentsFile } from './payments/files.js'
import { readReceiptsFile } from './receipts/files.js'

export { DEFAULT_TIMING } from './host/types.js'
export type { AgentHostInit, AgentModule, AgentStatus, AgentTiming, HandoffReplayData, HandoffSnapshot, ReceiptsSnapshot } from './host/types.js'

/**
 * One agent on this node: its sandbox, lease, budget and tick loop.
 *
 * Guarantees enforced here:
 * - SPEC §5 tick loop: the lease is validated before every tick; a renewal is
 *   written to disk before the renewed lease is used; past expiry + grace the
 *   agent moves to RECOVERY_REQUIRED, is checkpointed, and stops ticking.
 * - SPEC §3: authority changes are written to the durable authority record
 *   before they take effect for others (hand-off states, recovery, retirement).
 * - Every operation runs under one mutex, so ticks, checkpoints and authority
 *   changes never interleave.
 *
 * The work is done by the parts in `host/`, which share one `LiveAgent` (the
 * agent's state and its mutex): `TickLoop` (schedule, one pass, lease checks,
 * expiry), `Checkpoints` (encode, persist, authority record), `Instance`
 * (sandbox restarts, probation, HTTP handler) and `HandoffSource` (SPEC §7
 * source steps, stale copies). Start, stop and recovery are here.
 */
export class AgentHost {
  readonly agentId: string
  readonly module: AgentModule
  private readonly agent: LiveAgent
  private readonly instance: Instance
  private readonly checkpoints: Checkpoints
  private readonly ticks: TickLoop
  private readonly handoff: HandoffSource

  constructor(init: AgentHostInit) {
    this.agentId = init.agentId
    this.module = init.module
    this.agent = new LiveAgent(init, (reason) => { this.ticks.pauseForReplay(reason) })
    this.instance = new Instance(this.agent)
    this.checkpoints = new Checkpoints(this.agent, this.instance)
    this.ticks = new TickLoop(this.agent, this.instance, this.checkpoints)
    this.handoff = new HandoffSource(this.agent, this.checkpoints, this.ticks)
    this.instance.attachHttp()
    this.instance.attachWalletPay()
    if (init.lease.state === AuthorityState.RECOVERY_REQUIRED) {
      this.agent.haltWith(init.lease.recoveryReason ?? 'authority is ambiguous; run `igord recover`')
    }
  }

  get state(): AuthorityState {
    return this.agent.lease.state
  }

  get epoch(): Epoch {
    return this.agent.lease.epoch
  }

  /** True while the instance is alive, so `recover()` can let it tick again. */
  get recoverable(): boolean {
    return !this.agent.stopped && (this.agent.sandbox.alive || this.agent.sandbox.evicted === true)
  }

  /** The peer of the hand-off in progress or interrupted (as in the authority record), if any. */
  get handoffPeer(): string | undefined {
    return this.agent.peer
  }

  /** True while this node may tick the agent. */
  get ticking(): boolean {
    return !this.agent.stopped && this.agent.halted === null && canTick(this.agent.lease.state)
  }

  status(): AgentStatus {
    return {
      agentId: this.agentId,
      state: this.agent.shown.state,
      epoch: this.agent.shown.epoch,
      leaseExpiry: this.agent.shown.expiry,
      tickNumber: this.agent.tickNumber,
      budget: this.agent.budget,
      pricePerSecond: this.agent.pricePerSecond,
      // SPEC §15 settlement: a budget refusal shows as halted while it lasts (SPEC §16: so does a price hold).
      halted: this.agent.halted ?? this.agent.budgetRefusal ?? this.agent.priceHold
    }
  }

  /**
   * SPEC §16 "Moving for price": `reason` holds the tick loop (no ticks, no
   * charge, still ACTIVE_OWNER with its lease renewed; status shows the
   * reason); null lets it tick again from its next pass. Logged on change.
   */
  holdForPrice(reason: string | null): void {
    if (this.agent.priceHold === reason) return
    const was = this.agent.priceHold
    this.agent.priceHold = reason
    if (reason !== null) {
      this.agent.log.warn({ pricePerSecond: this.agent.pricePerSecond.toString() }, `agent paused: ${reason}`)
      runtimeEvents.halt(this.agentId, reason) // counted like a budget refusal (igor_halts_total)
    }
    else this.agent.log.info({ pricePerSecond: this.agent.pricePerSecond.toString() }, `agent ticks again (was: ${was ?? ''})`)
  }

  /** The price hold in force, null when none (SPEC §16). */
  get priceHold(): string | null {
    return this.agent.priceHold
  }

  /** SPEC §16 `request_move`: true from the tick that asked until `moveSettled()`. */
  get movePending(): boolean {
    return this.agent.movePending
  }

  /** SPEC §16: the requested move is over and the agent stayed; its next `request_move` is noted again. */
  moveSettled(): void {
    this.agent.movePending = false
  }

  /** Called after each completed tick; tests and benchmarks use it. */
  onTick(listener: ((tick: bigint) => void) | null): void {
    this.agent.ticksObserved = listener
  }

  /** Writes the starting checkpoint and authority record, so the (renewed) lease is durable before the first tick. */
  async persistStart(): Promise<void> {
    await this.agent.mutex.run(async () => {
      await this.checkpoints.writeAuthority(this.agent.lease.recoveryReason ?? undefined)
      await this.checkpoints.saveCheckpoint()
    })
  }

  /**
   * Issue 21 `igord receipts` on a running node: writes the receipts file if a
   * periodic checkpoint put its write off, then reads the agent's receipts,
   * checkpoint and payments files, all under the agent's mutex, so the three
   * are one consistent crash state (no checkpoint lands between the reads).
   */
  async receiptsSnapshot(): Promise<ReceiptsSnapshot> {
    return await this.agent.mutex.run(async () => {
      const written = await this.agent.receipts?.flushIfBehind() ?? false
      const dir = this.agent.store.dir
      const [receipts, checkpoint, payments] = await Promise.all([readReceiptsFile(dir, this.agentId), this.agent.store.loadBytes(this.agentId), readPaymentsFile(dir, this.agentId)])
      return { written, receipts, checkpoint: checkpoint?.bytes ?? null, payments }
    })
  }

  /** Starts (or resumes) the tick loop. */
  start(): void {
    this.ticks.schedule(0)
  }

  /** SPEC §5 shutdown: finish the in-flight tick, write a final checkpoint, stop the worker. */
  async stop(): Promise<void> {
    await this.agent.mutex.run(async () => {
      if (this.agent.stopped) return
      this.agent.stopped = true
      this.agent.cancelTimer()
      this.agent.verifier?.close()
      if (this.agent.sandbox.alive && (this.agent.lease.state === AuthorityState.ACTIVE_OWNER || this.agent.lease.state === AuthorityState.RECOVERY_REQUIRED)) {
        // A node that was paused past its lease must not come back as owner after a restart either.
        if (this.agent.lease.state === AuthorityState.ACTIVE_OWNER && this.agent.lease.isExpiredWithGrace()) {
          this.agent.lease.enterRecovery('lease expired beyond grace')
          await this.checkpoints.writeAuthority('lease expired beyond grace')
        }
        await this.checkpoints.trySaveCheckpoint('shutdown')
      }
      await this.agent.sandbox.terminate()
    })
  }

  /**
   * Shutdown past its bound (SPEC §11: SIGTERM to exit is bounded, whatever
   * an agent's calls take): the call in progress is stopped where it is and
   * `stop()` goes on without a final checkpoint; the last one on disk stays.
   */
  abortCalls(): void {
    void this.agent.sandbox.terminate()
  }

  /** `igord recover`: the explicit action that lets a RECOVERY_REQUIRED agent tick again, at a higher generation. */
  async recover(): Promise<AgentStatus> {
    return this.agent.mutex.run(async () => {
      if (this.agent.stopped || this.agent.lease.state !== AuthorityState.RECOVERY_REQUIRED) {
        throw new AuthorityError('INVALID_TRANSITION', `agent ${this.agentId} is ${this.agent.stopped ? 'stopped here' : this.agent.lease.state}, not RECOVERY_REQUIRED; nothing to recover`)
      }
      if (!await this.instance.ensureInstance()) {
        throw new RunnerError('AGENT_HALTED', `agent ${this.agentId} has no live instance (${this.agent.halted ?? 'stopped'}); restart the node to reload its last checkpoint`)
      }
      this.agent.lease.recover()
      this.agent.peer = undefined
      await this.checkpoints.saveCheckpoint()
      await this.checkpoints.writeAuthority()
      this.agent.halted = null
      this.agent.log.info({ epoch: this.agent.lease.epoch.toString() }, 'agent recovered')
      this.ticks.schedule(0)
      return this.status()
    })
  }

  /** Self-verification counters (tests, benchmarks); null when it is off. */
  get verification(): { verified: number, failed: number, skipped: number, idle: () => Promise<void> } | null {
    const verifier = this.agent.verifier
    return verifier === null ? null : { ...verifier.stats, idle: async () => verifier.idle() }
  }

  /**
   * Runs one pass of the tick loop now (lease check, renewal, metering, the
   * isolated tick, periodic checkpoint), outside the schedule. Benchmarks and
   * tests use it; returns whether the agent may tick again.
   */
  async tickOnce(): Promise<boolean> {
    return (await this.agent.mutex.run(() => this.ticks.step())) !== null
  }

  // ── stale copies (issue 12 item 2, SPEC §7; host/handoff-source.ts) ─────────

  /**
   * Drops a stale copy (issue 12 item 2): a copy that is not ACTIVE_OWNER —
   * RECOVERY_REQUIRED or stuck in a hand-off — becomes a tombstone at the epoch
   * it holds, durably, and never ticks here again. `movedTo` says why/where.
   */
  async retireStale(movedTo: string, why: string): Promise<Epoch> {
    return this.handoff.retireStale(movedTo, why)
  }

  /** SPEC §7 "A held copy yields only to a proven successor": the successor's admission runs with this copy held still. */
  async yieldToSuccessor<T>(why: string, admit: () => Promise<T>): Promise<T> {
    return this.handoff.yieldToSuccessor(why, admit)
  }

  // ── hand-off, source side (SPEC §7; host/handoff-source.ts) ─────────────────

  /** Step 1–2: durable HANDOFF_INITIATED, in-flight tick finished, final checkpoint at the live epoch. */
  async beginHandoff(peer: string): Promise<HandoffSnapshot> {
    return this.handoff.beginHandoff(peer)
  }

  /** Step 2: the package has been handed to the network. */
  async markHandoffPending(peer: string): Promise<void> {
    await this.handoff.markHandoffPending(peer)
  }

  /** Step 3: the target confirmed. RETIRED (durable), tombstone, checkpoint deleted, instance stopped. */
  async retire(movedTo: string): Promise<void> {
    await this.handoff.retire(movedTo)
  }

  /** Step 4: the target definitely refused (or the package never left). Back to ACTIVE_OWNER at (M,G+1). */
  async revertHandoff(reason: string): Promise<Epoch> {
    return this.handoff.revertHandoff(reason)
  }

  /** Step 5: the outcome is unknown. RECOVERY_REQUIRED (durable); nothing ticks until an operator decides. */
  async failHandoff(reason: string): Promise<void> {
    await this.handoff.failHandoff(reason)
  }
}
