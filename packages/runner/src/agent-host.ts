import { encodeCheckpoint } from '@igor/checkpoint-codec'
import type { Epoch } from '@igor/epoch'
import { AuthorityError, AuthorityState, type Lease, canTick } from '@igor/lease'
import { runtimeEvents } from './observer.js'
import { type AgentSandbox, type EgressPolicy, HttpRateLimiter, type Logger, type Manifest, type ObservationEntry, type PreparedAgent, REFERENCE_MAX_HOSTCALL_ID, SandboxError, type SandboxLimits, type TickResult, chargeTick, decodeEntries, firstDifference, performHttpCall } from '@igor/sandbox'
import { RunnerError } from './errors.js'
import { Mutex } from './mutex.js'
import { type ReplaySettings, SelfVerifier, verifiesPeriodically } from '@igor/replay'
import type { CheckpointStore } from './store/index.js'
import type { AgentLineage } from './lineage/agent-lineage.js'
import { removeIdentity } from './lineage/open.js'

/** SPEC §5 tick schedule and checkpoint cadence. */
export interface AgentTiming {
  readonly tickIntervalMs: number
  readonly busyIntervalMs: number
  readonly checkpointIntervalMs: number
}

export const DEFAULT_TIMING: AgentTiming = { tickIntervalMs: 1000, busyIntervalMs: 10, checkpointIntervalMs: 5000 }

/** One row of `igord status` (SPEC §6). */
export interface AgentStatus {
  readonly agentId: string
  readonly state: AuthorityState
  readonly epoch: Epoch
  readonly leaseExpiry: bigint
  readonly tickNumber: bigint
  readonly budget: bigint
  readonly pricePerSecond: bigint
  /** null while the agent may tick, else a short reason. */
  readonly halted: string | null
  /** For retired agents: where the agent went. */
  readonly movedTo?: string
}

/** The code and its identity, kept so the agent can be handed on (SPEC §7 package). */
export interface AgentModule {
  readonly prepared: PreparedAgent
  readonly wasm: Uint8Array
  readonly manifest: Manifest
}

export interface AgentHostInit {
  readonly agentId: string
  readonly module: AgentModule
  readonly sandbox: AgentSandbox
  readonly lease: Lease
  readonly budget: bigint
  readonly pricePerSecond: bigint
  readonly tickNumber: bigint
  readonly store: CheckpointStore
  readonly logger: Logger
  readonly timing: AgentTiming
  /** Wall-clock Unix ns, for authority records and tombstones. */
  readonly nowNs: () => bigint
  /** True when the starting checkpoint was already written (the periodic one counts from now). */
  readonly checkpointed?: boolean
  /** The other node of an interrupted hand-off (from the authority record), kept for recovery. */
  readonly peer?: string
  /** SPEC §12: the agent's identity and chain; every checkpoint is then a signed v0x04. Without it, v0x03. */
  readonly lineage?: AgentLineage
  /** SPEC §12 self-verification; absent or mode off/on-migrate: none. */
  readonly replay?: ReplaySettings
  /** Limits for the replay sandboxes (the same as the live one's). */
  readonly sandboxLimits?: Partial<SandboxLimits>
  /**
   * Issue 11: starts a new sandbox for this agent from a state, when a shared
   * worker was stopped for another agent's fault (`solo`: a worker of its
   * own). Without it an evicted agent halts.
   */
  readonly restartSandbox?: (state: Uint8Array | null, budget: bigint, solo: boolean) => Promise<AgentSandbox>
  /**
   * Issue 11: the sandbox is a worker of its own for probation (an arrival
   * from a peer, so a package whose start loops evicts nobody); at its first
   * periodic checkpoint here the agent moves to a shared worker.
   */
  readonly probation?: boolean
  /** SPEC §13 the node's egress policy and `--http-rate`; absent: only the agent's allow-list applies. */
  readonly egress?: { readonly policy: EgressPolicy, readonly ratePerSecond: number }
}

/** An agent evicted this often within EVICTION_WINDOW_MS gets a worker of its own. */
const EVICTIONS_BEFORE_SOLO = 3
const EVICTION_WINDOW_MS = 60_000

/** SPEC §12 `Package.ReplayData`: the last tick, when it produced exactly the state in the package. */
export interface HandoffReplayData {
  readonly preTickState: Uint8Array
  readonly tickNumber: bigint
  readonly entries: readonly ObservationEntry[]
}

/** What the source of a hand-off sends: built from the live instance, never from a file (SPEC §7 source 2). */
export interface HandoffSnapshot {
  readonly agentId: string
  readonly module: AgentModule
  /** Encoded v0x03 checkpoint at the live epoch. */
  readonly checkpoint: Uint8Array
  /**
   * The same checkpoint being written to this node's disk. The write runs
   * while the package travels: HANDOFF_INITIATED is already durable, so a
   * crash in between comes back as RECOVERY_REQUIRED either way.
   */
  readonly persisted: Promise<void>
  readonly epoch: Epoch
  readonly budget: bigint
  readonly pricePerSecond: bigint
  readonly tickNumber: bigint
  /** Null when the last tick cannot be replayed from this package (see `HandoffReplayData`). */
  readonly replayData: HandoffReplayData | null
  /** SPEC §12: the 68-byte identity file, sent as `Package.AgentIdentity`; absent for an agent without one. */
  readonly identity?: Uint8Array
}

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
 */
export class AgentHost {
  readonly agentId: string
  readonly module: AgentModule
  private sandbox: AgentSandbox
  private readonly lease: Lease
  private budget: bigint
  private readonly pricePerSecond: bigint
  private tickNumber: bigint
  private carry = 0n
  private halted: string | null = null
  private stopped = false
  private timer: NodeJS.Timeout | null = null
  private lastCheckpointAt = 0
  private readonly mutex = new Mutex()
  private readonly store: CheckpointStore
  private readonly log: Logger
  private readonly timing: AgentTiming
  private readonly nowNs: () => bigint
  private ticksObserved: ((tick: bigint) => void) | null = null
  /**
   * What `status` reports: the state of the last durable authority write, and
   * the epoch/expiry of the last durable write of either kind. The in-memory
   * lease can run ahead of the disk for the length of one write; status never
   * shows that (issue 12 item 3).
   */
  private shown: { state: AuthorityState, epoch: Epoch, expiry: bigint }
  /** The other node of the hand-off in progress or interrupted; recorded with every authority write. */
  private peer: string | undefined
  private readonly verifier: SelfVerifier | null
  /** The last tick the worker recorded (its number and highest hostcall id), null after a failure. */
  private lastRecorded: { tickNumber: bigint, highestId: number } | null = null
  /** The raw state of the last `encodeLive`, to compare with the last tick's post-state. */
  private lastLiveState: Uint8Array | null = null
  private readonly lineage: AgentLineage | undefined
  private readonly restartSandbox: AgentHostInit['restartSandbox']
  /** When this agent's shared worker was lost lately (performance.now()). */
  private evictions: number[] = []
  private probation: boolean
  /** SPEC §13: the node's egress policy, and this agent's `--http-rate` allowance (kept across sandbox restarts). */
  private readonly egress: EgressPolicy | null
  private readonly httpRate: HttpRateLimiter | null

  constructor(init: AgentHostInit) {
    this.agentId = init.agentId
    this.module = init.module
    this.sandbox = init.sandbox
    this.lease = init.lease
    this.budget = init.budget
    this.pricePerSecond = init.pricePerSecond
    this.tickNumber = init.tickNumber
    this.store = init.store
    this.log = init.logger
    this.timing = init.timing
    this.nowNs = init.nowNs
    if (init.checkpointed === true) this.lastCheckpointAt = performance.now()
    this.shown = { state: init.lease.state, epoch: init.lease.epoch, expiry: init.lease.expiry }
    this.peer = init.peer
    this.verifier = init.replay !== undefined && verifiesPeriodically(init.replay)
      ? new SelfVerifier({
        settings: init.replay,
        setup: {
          agentId: init.agentId,
          module: init.module.prepared.module,
          capabilities: [...init.module.prepared.capabilities],
          usesWasi: init.module.prepared.usesWasi,
          entry: init.module.prepared.entry
        },
        logger: init.logger,
        ...(init.sandboxLimits !== undefined ? { limits: init.sandboxLimits } : {}),
        pause: (reason) => { this.pauseForReplay(reason) }
      })
      : null
    this.lineage = init.lineage
    this.restartSandbox = init.restartSandbox
    this.probation = init.probation === true
    this.egress = init.egress?.policy ?? null
    this.httpRate = init.egress !== undefined ? new HttpRateLimiter(init.egress.ratePerSecond) : null
    this.attachHttp()
    if (init.lease.state === AuthorityState.RECOVERY_REQUIRED) {
      this.haltWith(init.lease.recoveryReason ?? 'authority is ambiguous; run `igord recover`')
    }
  }

  /**
   * Issue 11: the end of an arrival's probation. Right after a checkpoint the
   * live state is the saved one, so the agent starts again from it in a
   * shared worker with nothing lost, and the probation thread is stopped. A
   * failure leaves it where it is (correct, only not sharing).
   */
  private async graduate(): Promise<void> {
    const state = this.lastLiveState
    if (!this.probation || this.restartSandbox === undefined || state === null) return
    this.probation = false
    const previous = this.sandbox
    try {
      this.adopt(await this.restartSandbox(state, this.budget, false))
    } catch (error) {
      this.log.warn({}, `agent stays in its own worker: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    this.charge(previous.takeUncharged())
    await previous.terminate()
    this.log.info({ tickNumber: this.tickNumber.toString() }, 'agent moved from its probation worker to a shared one')
  }

  /** A new live sandbox (issue 11: after an eviction, or at the end of probation): no record of a last tick in it yet. */
  private adopt(sandbox: AgentSandbox): void {
    this.sandbox = sandbox
    this.attachHttp()
    this.lastRecorded = null
  }

  /** Gives the live sandbox this agent's HTTP handler (SPEC §13), when the manifest declares `http`. */
  private attachHttp(): void {
    const http = this.module.manifest.http ?? null
    if (http !== null) {
      // SPEC §13: the node performs the agent's requests. The Idempotency-Key
      // carries the number of the tick in progress (the stored count + 1), so a
      // tick re-executed after a crash repeats its keys; the gate is asked at
      // the moment each request would leave.
      // (`?.`: test fakes of the sandbox need not implement effects.)
      this.sandbox.setHttpHandler?.(async (call, callIndex, maxWaitMs) => {
        const result = await performHttpCall(call, {
          options: http, agentId: this.agentId, tickNumber: this.tickNumber + 1n, callIndex, maxWaitMs, isOwner: () => this.mayAct(),
          egress: this.egress, rate: this.httpRate
        })
        if (!result.ok) this.log.warn({ code: result.code, url: call.url }, `http_request refused or failed: ${result.reason}`)
        return { ...result, maxResponseBytes: http.maxResponseBytes }
      })
    }
  }

  /**
   * Issue 11: the instance was lost with a shared worker stopped for another
   * agent's fault. The agent restarts from its last durable checkpoint, as
   * after a crash of the node: that checkpoint's state and tick number (ticks
   * after it run again and repeat their Idempotency-Keys, SPEC §13); the
   * budget already charged stays charged. True when a live instance is there.
   */
  private async ensureInstance(): Promise<boolean> {
    if (this.sandbox.alive) return true
    if (this.sandbox.evicted !== true || this.restartSandbox === undefined || this.stopped) return false
    const reason = this.sandbox.failure ?? 'worker lost'
    // No checkpoint yet (evicted before its first one was written): it starts over, as a crash would have it.
    const stored = await this.store.load(this.agentId)
    const now = performance.now()
    this.evictions = [...this.evictions.filter((at) => now - at < EVICTION_WINDOW_MS), now]
    // SPEC §11 fair share: an agent whose calls need more than a shared thread gives restarts alone.
    const moved = this.sandbox.needsOwnThread === true
    const solo = moved || this.evictions.length >= EVICTIONS_BEFORE_SOLO
    this.adopt(await this.restartSandbox(stored?.state ?? null, this.budget, solo))
    this.tickNumber = stored?.tickNumber ?? 0n
    this.lastLiveState = stored?.state ?? null
    if (!moved) runtimeEvents.eviction(this.agentId) // a move (SPEC §11 fair share) is the agent's own doing, not an eviction
    this.log.warn({ tickNumber: this.tickNumber.toString(), solo }, `agent restarted from its last checkpoint: ${reason}`)
    return true
  }

  get state(): AuthorityState {
    return this.lease.state
  }

  get epoch(): Epoch {
    return this.lease.epoch
  }

  /** True while the instance is alive, so `recover()` can let it tick again. */
  get recoverable(): boolean {
    return !this.stopped && (this.sandbox.alive || this.sandbox.evicted === true)
  }

  /** The peer of the hand-off in progress or interrupted (as in the authority record), if any. */
  get handoffPeer(): string | undefined {
    return this.peer
  }

  /** True while this node may tick the agent. */
  get ticking(): boolean {
    return !this.stopped && this.halted === null && canTick(this.lease.state)
  }

  status(): AgentStatus {
    return {
      agentId: this.agentId,
      state: this.shown.state,
      epoch: this.shown.epoch,
      leaseExpiry: this.shown.expiry,
      tickNumber: this.tickNumber,
      budget: this.budget,
      pricePerSecond: this.pricePerSecond,
      halted: this.halted
    }
  }

  /** Called after each completed tick; tests and benchmarks use it. */
  onTick(listener: ((tick: bigint) => void) | null): void {
    this.ticksObserved = listener
  }

  /** Writes the starting checkpoint and authority record, so the (renewed) lease is durable before the first tick. */
  async persistStart(): Promise<void> {
    await this.mutex.run(async () => {
      await this.writeAuthority(this.lease.recoveryReason ?? undefined)
      await this.saveCheckpoint()
    })
  }

  /** Starts (or resumes) the tick loop. */
  start(): void {
    this.schedule(0)
  }

  /** SPEC §5 shutdown: finish the in-flight tick, write a final checkpoint, stop the worker. */
  async stop(): Promise<void> {
    await this.mutex.run(async () => {
      if (this.stopped) return
      this.stopped = true
      this.cancelTimer()
      this.verifier?.close()
      if (this.sandbox.alive && (this.lease.state === AuthorityState.ACTIVE_OWNER || this.lease.state === AuthorityState.RECOVERY_REQUIRED)) {
        // A node that was paused past its lease must not come back as owner after a restart either.
        if (this.lease.state === AuthorityState.ACTIVE_OWNER && this.lease.isExpiredWithGrace()) {
          this.lease.enterRecovery('lease expired beyond grace')
          await this.writeAuthority('lease expired beyond grace')
        }
        await this.trySaveCheckpoint('shutdown')
      }
      await this.sandbox.terminate()
    })
  }

  /**
   * Shutdown past its bound (SPEC §11: SIGTERM to exit is bounded, whatever
   * an agent's calls take): the call in progress is stopped where it is and
   * `stop()` goes on without a final checkpoint; the last one on disk stays.
   */
  abortCalls(): void {
    void this.sandbox.terminate()
  }

  /** `igord recover`: the explicit action that lets a RECOVERY_REQUIRED agent tick again, at a higher generation. */
  async recover(): Promise<AgentStatus> {
    return this.mutex.run(async () => {
      if (this.stopped || this.lease.state !== AuthorityState.RECOVERY_REQUIRED) {
        throw new AuthorityError('INVALID_TRANSITION', `agent ${this.agentId} is ${this.stopped ? 'stopped here' : this.lease.state}, not RECOVERY_REQUIRED; nothing to recover`)
      }
      if (!await this.ensureInstance()) {
        throw new RunnerError('AGENT_HALTED', `agent ${this.agentId} has no live instance (${this.halted ?? 'stopped'}); restart the node to reload its last checkpoint`)
      }
      this.lease.recover()
      this.peer = undefined
      await this.saveCheckpoint()
      await this.writeAuthority()
      this.halted = null
      this.log.info({ epoch: this.lease.epoch.toString() }, 'agent recovered')
      this.schedule(0)
      return this.status()
    })
  }

  /**
   * Drops a stale copy (issue 12 item 2): a copy that is not ACTIVE_OWNER —
   * RECOVERY_REQUIRED or stuck in a hand-off — becomes a tombstone at the epoch
   * it holds, durably (tombstone, then the RETIRED authority record, then the
   * checkpoint removed), and never ticks here again. `movedTo` says why/where.
   */
  async retireStale(movedTo: string, why: string): Promise<Epoch> {
    return this.mutex.run(async () => {
      if (this.lease.state === AuthorityState.ACTIVE_OWNER || this.lease.state === AuthorityState.RETIRED) {
        throw new AuthorityError('INVALID_TRANSITION', `agent ${this.agentId} is ${this.lease.state} at ${this.lease.epoch} here; only a RECOVERY_REQUIRED or HANDOFF_* copy can be retired`)
      }
      const epoch = this.lease.epoch
      this.stopped = true
      this.cancelTimer()
      await this.store.writeTombstone(this.agentId, { agentId: this.agentId, epoch, movedTo, retiredAtNs: this.nowNs(), ...this.agentKey() })
      await this.store.writeAuthority(this.agentId, { state: AuthorityState.RETIRED, epoch, updatedAtNs: this.nowNs(), reason: why, peer: movedTo })
      this.shown = { ...this.shown, state: AuthorityState.RETIRED }
      this.haltWith(`retired: ${why}`)
      await this.store.delete(this.agentId)
      await this.store.deleteModule(this.agentId)
      // SPEC §12: the identity file goes only now, with the agent RETIRED here.
      await removeIdentity(this.store.dir, this.agentId)
      await this.sandbox.terminate()
      this.log.warn({ epoch: epoch.toString(), movedTo }, `stale copy retired: ${why}`)
      return epoch
    })
  }

  /**
   * SPEC §7 "A held copy yields only to a proven successor": runs the
   * successor's admission with this copy held still (its mutex: no tick,
   * recovery or retirement of it in between). The admission writes the
   * successor's files over this copy's; only when it succeeded does this copy
   * stop for good, writing nothing more. If it fails, this copy is untouched.
   */
  async yieldToSuccessor<T>(why: string, admit: () => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (this.stopped || this.lease.state === AuthorityState.ACTIVE_OWNER || this.lease.state === AuthorityState.RETIRED) {
        throw new AuthorityError('INVALID_TRANSITION', `agent ${this.agentId} is ${this.lease.state} at ${this.lease.epoch} here; only a RECOVERY_REQUIRED or HANDOFF_* copy can be superseded`)
      }
      const result = await admit()
      this.stopped = true
      this.cancelTimer()
      this.verifier?.close()
      this.shown = { ...this.shown, state: AuthorityState.RETIRED }
      this.haltWith(`retired: ${why}`)
      await this.sandbox.terminate().catch(() => undefined)
      this.log.warn({ epoch: this.lease.epoch.toString() }, `stale copy retired: ${why}`)
      return result
    })
  }

  /** SPEC §7: the key a tombstone keeps, so only this agent can come back under its id. */
  private agentKey(): { agentKey?: string } {
    return this.lineage !== undefined ? { agentKey: this.lineage.identity.publicKeyHex } : {}
  }

  /** Every halt goes through here, so it is counted when it happens (issue 22: not when a scrape sees it). */
  private haltWith(reason: string): void {
    if (this.halted === reason) return
    this.halted = reason
    runtimeEvents.halt(this.agentId, reason)
  }

  // ── hand-off, source side (SPEC §7) ─────────────────────────────────────────

  /** Step 1–2: durable HANDOFF_INITIATED, in-flight tick finished, final checkpoint at the live epoch. */
  async beginHandoff(peer: string): Promise<HandoffSnapshot> {
    return this.mutex.run(async () => {
      if (this.halted !== null) throw new RunnerError('AGENT_HALTED', `agent ${this.agentId} is halted (${this.halted}); it cannot be migrated`)
      // A migrate that finds the lease expired beyond grace changes authority
      // (→ RECOVERY_REQUIRED): durable and logged before the refusal is reported.
      await this.validateOrExpire()
      this.lease.beginHandoff()
      this.peer = peer
      this.cancelTimer()
      let checkpoint: Uint8Array
      let replayData: HandoffReplayData | null = null
      try {
        // The final state is copied out and signed while HANDOFF_INITIATED is made durable: nothing
        // leaves this node before both are done, and the fsync no longer sits in front of the copy.
        const [written, snapshot] = await Promise.allSettled([
          this.writeAuthority(undefined, peer),
          (async () => {
            const encoded = await this.encodeLive()
            // Replay data is an extra: without it the target simply does not replay.
            return { encoded, replay: await this.replayDataForHandoff().catch(() => null) }
          })()
        ])
        if (written.status === 'rejected') throw written.reason
        if (snapshot.status === 'rejected') throw snapshot.reason
        checkpoint = snapshot.value.encoded
        replayData = snapshot.value.replay
      } catch (error) {
        // Nothing has left this node: take authority back at (M,G+1) and tick on.
        await this.revertLocally(`could not prepare the hand-off: ${(error as Error).message}`)
        throw error
      }
      const persisted = this.persist(checkpoint).then(() => { this.lastCheckpointAt = performance.now() })
      persisted.catch(() => undefined) // the caller awaits it; this only keeps an early failure from going unhandled
      return {
        agentId: this.agentId,
        module: this.module,
        checkpoint,
        persisted,
        epoch: this.lease.epoch,
        budget: this.budget,
        pricePerSecond: this.pricePerSecond,
        tickNumber: this.tickNumber,
        replayData,
        ...(this.lineage !== undefined ? { identity: this.lineage.identity.toBytes() } : {})
      }
    })
  }

  /** Self-verification counters (tests, benchmarks); null when it is off. */
  get verification(): { verified: number, failed: number, skipped: number, idle: () => Promise<void> } | null {
    const verifier = this.verifier
    return verifier === null ? null : { ...verifier.stats, idle: async () => verifier.idle() }
  }

  /**
   * SPEC §12: the last tick's record, only when that tick produced exactly the
   * state just checkpointed (same tick number, same bytes) and used no id the
   * reference cannot replay (above 9).
   */
  private async replayDataForHandoff(): Promise<HandoffReplayData | null> {
    const last = this.lastRecorded
    const state = this.lastLiveState
    const skip = (why: string): null => {
      this.log.debug({ tickNumber: this.tickNumber.toString() }, `no ReplayData in the package: ${why}`)
      return null
    }
    if (last === null || state === null || last.tickNumber !== this.tickNumber) return skip('the last tick was not recorded')
    if (last.highestId > REFERENCE_MAX_HOSTCALL_ID) return skip(`the last tick used hostcall id ${last.highestId}, which the reference cannot replay`)
    const record = await this.sandbox.tickRecord()
    if (record === null) return skip('the worker kept no record of the last tick')
    if (firstDifference(record.post, state) !== -1) return skip('the state changed after the last tick')
    return { preTickState: record.pre, tickNumber: last.tickNumber, entries: decodeEntries(record.log) }
  }

  /** `--replay-on-divergence pause`: halt with the reason, off the tick path, keeping a final checkpoint. */
  private pauseForReplay(reason: string): void {
    void this.mutex.run(async () => {
      if (this.stopped || this.halted !== null) return
      this.cancelTimer()
      await this.haltWithCheckpoint(reason)
    }).catch((error: unknown) => this.haltOnError(error))
  }

  /** Step 2: the package has been handed to the network. */
  async markHandoffPending(peer: string): Promise<void> {
    await this.mutex.run(async () => {
      this.lease.markPending()
      await this.writeAuthority(undefined, peer)
    })
  }

  /** Step 3: the target confirmed. RETIRED (durable), tombstone, checkpoint deleted, instance stopped. */
  async retire(movedTo: string): Promise<void> {
    await this.mutex.run(async () => {
      const finalEpoch = this.lease.epoch
      this.lease.retire()
      this.stopped = true
      this.cancelTimer()
      await this.store.writeTombstone(this.agentId, { agentId: this.agentId, epoch: finalEpoch, movedTo, retiredAtNs: this.nowNs(), ...this.agentKey() })
      await this.writeAuthority(undefined, movedTo)
      await this.store.delete(this.agentId)
      await this.store.deleteModule(this.agentId)
      // SPEC §12: the identity file goes only now, with the agent RETIRED here (the target has it).
      await removeIdentity(this.store.dir, this.agentId)
      await this.sandbox.terminate()
      this.log.info({ movedTo, epoch: finalEpoch.toString() }, 'agent handed off; retired here')
    })
  }

  /**
   * Step 4: the target definitely refused (or the package never left this
   * node). Back to ACTIVE_OWNER at (M,G+1), durable, and tick on.
   */
  async revertHandoff(reason: string): Promise<Epoch> {
    return this.mutex.run(async () => this.revertLocally(reason))
  }

  private async revertLocally(reason: string): Promise<Epoch> {
    this.lease.revertHandoff()
    this.peer = undefined
    try {
      await this.saveCheckpoint()
      await this.writeAuthority()
    } catch (error) {
      // Cannot make the revert durable: do not tick on an authority the disk does not show.
      const why = `hand-off reverted but not persisted: ${(error as Error).message}`
      this.lease.enterRecovery(why)
      this.haltWith(why)
      await this.writeAuthority(why).catch(() => undefined)
      throw error
    }
    this.log.warn({ reason, epoch: this.lease.epoch.toString() }, 'hand-off did not happen; agent stays here')
    this.schedule(0)
    return this.lease.epoch
  }

  /** Step 5: the outcome is unknown. RECOVERY_REQUIRED (durable); nothing ticks until an operator decides. */
  async failHandoff(reason: string): Promise<void> {
    await this.mutex.run(async () => {
      this.lease.enterRecovery(reason)
      this.haltWith(reason)
      await this.writeAuthority(reason)
      this.log.error({ reason }, 'hand-off outcome unknown; agent needs explicit recovery')
    })
  }

  /**
   * Runs one pass of the tick loop now (lease check, renewal, metering, the
   * isolated tick, periodic checkpoint), outside the schedule. Benchmarks and
   * tests use it; returns whether the agent may tick again.
   */
  async tickOnce(): Promise<boolean> {
    return (await this.mutex.run(() => this.step())) !== null
  }

  // ── tick loop ───────────────────────────────────────────────────────────────

  private schedule(delayMs: number): void {
    if (this.stopped || this.halted !== null) return
    this.cancelTimer()
    this.timer = setTimeout(() => {
      this.timer = null
      void this.mutex.run(() => this.step()).then(
        (next) => { if (next !== null) this.schedule(next) },
        (error: unknown) => this.haltOnError(error)
      )
    }, delayMs)
  }

  private cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  /** One pass of the SPEC §5 loop; returns the delay to the next pass, or null to stop. */
  private async step(): Promise<number | null> {
    if (this.stopped || this.halted !== null || !canTick(this.lease.state)) return null
    if (!this.sandbox.alive) await this.ensureInstance() // no await on the live path
    if (!await this.leaseHolds()) return null
    if (this.lease.needsRenewal()) {
      this.lease.renew()
      // SPEC §5: the renewal is durable before the renewed lease is used.
      await this.saveCheckpoint()
      this.log.debug({ epoch: this.lease.epoch.toString(), leaseExpiry: this.lease.expiry.toString() }, 'lease renewed')
      runtimeEvents.renewal(this.agentId)
    }
    if (this.budget <= 0n) {
      await this.haltWithCheckpoint('budget exhausted')
      return null
    }
    // SPEC §5: a node paused (SIGSTOP, VM freeze) during any await above — the
    // renewal's fsync is the long one — must not tick after it resumes. The lease
    // is validated again with nothing awaited between this check and the dispatch,
    // and the worker gets the absolute deadline, so a pause after this line is
    // caught there (issue 12 item 1).
    if (this.stopped || this.halted !== null || !await this.leaseHolds()) return null
    let result: TickResult
    this.lastRecorded = null
    try {
      result = await this.sandbox.tick(this.budget, tickDeadline(this.lease, this.nowNs()))
    } catch (error) {
      if (error instanceof SandboxError && error.kind === 'deadline') {
        // The worker saw the lease's end pass before agent_tick ran: nothing ran.
        await this.leaseHolds()
        if (this.halted === null) await this.expire()
        return null
      }
      if (error instanceof SandboxError && (error.kind === 'evicted' || error.kind === 'moved')) {
        // Not this agent's fault (or, moved: its state copy needs a thread of its own, SPEC §11):
        // the tick did not complete; restart from the last checkpoint and go on.
        if (error.kind === 'moved') this.charge(error.elapsedNs)
        await this.ensureInstance()
        return this.timing.busyIntervalMs
      }
      if (error instanceof SandboxError) {
        // The instance is gone or suspect; its last good checkpoint stays on disk.
        // SPEC §11: the failed call is still charged (a missed deadline in full).
        this.charge(error.elapsedNs + this.sandbox.takeUncharged())
        this.haltWith(`tick failed: ${error.message}`)
        this.log.error({ kind: error.kind, tickNumber: this.tickNumber.toString() }, `agent halted: ${error.message}; last good checkpoint kept`)
        return null
      }
      throw error
    }
    this.charge(result.elapsedNs + this.sandbox.takeUncharged())
    this.tickNumber += 1n
    if (result.recorded) this.lastRecorded = { tickNumber: this.tickNumber, highestId: result.highestId }
    // SPEC §12: fetch the record of a due tick now (one short message); the replay runs in its own sandbox.
    if (this.verifier !== null && result.recorded && this.verifier.due(result.observations)) {
      const record = await this.sandbox.tickRecord().catch(() => null)
      if (record !== null) this.verifier.submit({ tickNumber: this.tickNumber, ...record })
    }
    this.ticksObserved?.(this.tickNumber)
    runtimeEvents.tick(this.agentId, result.elapsedNs)
    if (this.budget <= 0n) {
      await this.haltWithCheckpoint('budget exhausted')
      return null
    }
    if (performance.now() - this.lastCheckpointAt >= this.timing.checkpointIntervalMs) {
      await this.saveCheckpoint()
      await this.graduate()
    }
    return result.more ? this.timing.busyIntervalMs : this.timing.tickIntervalMs
  }

  /**
   * SPEC §13 output gate: an effect may leave this node only while it is the
   * agent's ACTIVE_OWNER with an unexpired lease (grace does not count), and
   * the agent is neither stopped nor halted.
   */
  private mayAct(): boolean {
    return !this.stopped && this.halted === null && this.lease.state === AuthorityState.ACTIVE_OWNER && !this.lease.isExpired()
  }

  /** validateForTick(); past expiry + grace runs the durable expiry path and returns false. */
  private async leaseHolds(): Promise<boolean> {
    try {
      this.lease.validateForTick()
      return true
    } catch (error) {
      if (error instanceof AuthorityError && error.code === 'LEASE_EXPIRED') {
        await this.expire()
        return false
      }
      throw error
    }
  }

  /** Like leaseHolds, but rethrows the refusal after the expiry is durable and logged (for operator actions). */
  private async validateOrExpire(): Promise<void> {
    try {
      this.lease.validateForTick()
    } catch (error) {
      if (error instanceof AuthorityError && error.code === 'LEASE_EXPIRED') await this.expire()
      throw error
    }
  }

  /** SPEC §5 expiry: RECOVERY_REQUIRED (durable), final checkpoint, log line, no more ticks. */
  private async expire(): Promise<void> {
    const reason = 'lease expired beyond grace'
    this.lease.enterRecovery(reason)
    this.cancelTimer()
    await this.writeAuthority(reason)
    this.haltWith(reason)
    await this.trySaveCheckpoint('lease expiry')
    this.log.error({ epoch: this.lease.epoch.toString() }, 'lease expired beyond grace; agent stopped until recovered')
  }

  /** SPEC §5/§11 metering: elapsed ns × price, the sub-microcent remainder carried. */
  private charge(elapsedNs: bigint): void {
    const charge = chargeTick(this.budget, this.pricePerSecond, elapsedNs, this.carry)
    this.budget = charge.budget
    this.carry = charge.carry
  }

  private async haltWithCheckpoint(reason: string): Promise<void> {
    // The final checkpoint is on disk before status shows the halt: a reader who sees "halted" finds it there.
    // Nothing ticks meanwhile: this runs under the mutex and the timer is cancelled.
    this.cancelTimer()
    await this.trySaveCheckpoint(reason)
    this.haltWith(reason)
    this.log.warn({ tickNumber: this.tickNumber.toString(), budget: this.budget.toString() }, `agent halted: ${reason}`)
  }

  private haltOnError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error)
    this.haltWith(`stopped: ${message}`)
    this.log.error({ code: (error as { code?: string }).code }, `agent halted: ${message}`)
  }

  /** Encodes the live state at the live epoch and writes it (atomic, fenced). Returns the bytes written. */
  private async saveCheckpoint(): Promise<Uint8Array> {
    const epoch = this.lease.epoch
    const expiry = this.lease.expiry
    const started = performance.now()
    const bytes = await this.encodeLive()
    await this.persist(bytes)
    this.lastCheckpointAt = performance.now()
    runtimeEvents.checkpoint(this.agentId, bytes.byteLength, this.lastCheckpointAt - started)
    this.shown = { ...this.shown, epoch, expiry }
    return bytes
  }

  /** The live state, copied out of the worker and encoded at the live epoch. */
  private async encodeLive(): Promise<Uint8Array> {
    let state: Uint8Array
    for (let attempt = 1; ; attempt++) {
      if (!this.sandbox.alive) await this.ensureInstance()
      try {
        state = await this.sandbox.checkpoint()
        break
      } catch (error) {
        // Evicted during the copy (issue 11): restarted, the state to save is the restarted one.
        // Moved (SPEC §11 fair share): it needed more than a shared thread gives; the slice is charged, it restarts alone.
        if (attempt < 3 && error instanceof SandboxError && error.kind === 'moved') this.charge(error.elapsedNs)
        if (attempt < 3 && error instanceof SandboxError && (error.kind === 'evicted' || error.kind === 'moved')) continue
        throw error
      }
    }
    this.charge(this.sandbox.takeUncharged()) // SPEC §11: checkpoint and start-up time is charged too
    this.lastLiveState = state
    const input = {
      budget: this.budget,
      pricePerSecond: this.pricePerSecond,
      tickNumber: this.tickNumber,
      wasmHash: this.module.prepared.wasmHash,
      epoch: this.lease.epoch,
      leaseExpiry: this.lease.expiry,
      state
    }
    // SPEC §12: signed and chained when the agent has an identity.
    return this.lineage !== undefined ? this.lineage.seal(input) : encodeCheckpoint(input)
  }

  /** The checkpoint file, then (SPEC §12) its history copy; the chain moves only when both are written. */
  private async persist(bytes: Uint8Array): Promise<void> {
    if (this.lineage !== undefined) await this.lineage.persist(this.store, this.agentId, bytes)
    else await this.store.save(this.agentId, bytes)
  }

  /** A checkpoint on a halt path: failure to write is logged, never thrown over the original reason. */
  private async trySaveCheckpoint(why: string): Promise<void> {
    if (!this.sandbox.alive) return
    try {
      await this.saveCheckpoint()
    } catch (error) {
      this.log.error({ why }, `final checkpoint failed: ${error instanceof Error ? error.message : String(error)}; last good checkpoint kept`)
    }
  }

  private async writeAuthority(reason?: string, peer?: string): Promise<void> {
    const { state, epoch, expiry } = this.lease
    const recordPeer = peer ?? this.peer
    await this.store.writeAuthority(this.agentId, {
      state,
      epoch,
      updatedAtNs: this.nowNs(),
      ...(reason !== undefined ? { reason } : {}),
      ...(recordPeer !== undefined ? { peer: recordPeer } : {})
    })
    this.shown = { state, epoch, expiry }
  }
}

/**
 * The absolute end of the right to tick, on the process-wide monotonic clock
 * (`process.hrtime.bigint()`, the same in every worker thread and still running
 * while the process is stopped): lease expiry + grace, as seen now. Null with
 * leases disabled.
 */
function tickDeadline(lease: Lease, nowNs: bigint): bigint | null {
  const config = lease.config
  if (config === null) return null
  const remainingNs = lease.expiry + BigInt(Math.round(config.gracePeriodMs * 1e6)) - nowNs
  return process.hrtime.bigint() + remainingNs
}
