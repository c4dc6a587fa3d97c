// SPEC §5, §3, §13 output gate: what one agent on this node is right now — its sandbox, lease, budget,
// tick count, halt reason, the authority `status` shows, the peer of a hand-off, the last tick recorded
// (SPEC §12) — and the one mutex every tick, checkpoint and authority change of it runs under. The tick
// loop, the checkpoints, the instance and the hand-off source read and change it; the few helpers here
// (halt, metering, the output gate) are the ones all of them use.
import type { Epoch } from '@igor/epoch'
import { AuthorityState, type Lease } from '@igor/lease'
import { runtimeEvents } from '../observer.js'
import { type AgentSandbox, type EgressPolicy, HttpRateLimiter, type Logger, chargeTick } from '@igor/sandbox'
import { Mutex } from '../mutex.js'
import { SelfVerifier, verifiesPeriodically } from '@igor/replay'
import type { CheckpointStore } from '../store/index.js'
import type { AgentLineage } from '../lineage/agent-lineage.js'
import type { ReceiptBook } from '../receipts/book.js'
import type { PaymentLog } from '../payments/log.js'
import { type BudgetAdapter, budgetRefusalReason } from '../settlement/types.js'
import type { AgentHostInit, AgentModule, AgentTiming } from './types.js'

/** One agent's live state, shared by the parts of its AgentHost (see the file comment). */
export class LiveAgent {
  readonly agentId: string
  readonly module: AgentModule
  sandbox: AgentSandbox
  readonly lease: Lease
  budget: bigint
  /** SPEC §15: where the current price is read (the node's holder, or a fixed one). */
  private readonly price: { readonly value: bigint }
  tickNumber: bigint
  carry = 0n
  halted: string | null = null
  stopped = false
  timer: NodeJS.Timeout | null = null
  lastCheckpointAt = 0
  readonly mutex = new Mutex()
  readonly store: CheckpointStore
  readonly log: Logger
  readonly timing: AgentTiming
  readonly nowNs: () => bigint
  ticksObserved: ((tick: bigint) => void) | null = null
  /**
   * What `status` reports: the state of the last durable authority write, and
   * the epoch/expiry of the last durable write of either kind. The in-memory
   * lease can run ahead of the disk for the length of one write; status never
   * shows that (issue 12 item 3).
   */
  shown: { state: AuthorityState, epoch: Epoch, expiry: bigint }
  /** The other node of the hand-off in progress or interrupted; recorded with every authority write. */
  peer: string | undefined
  readonly verifier: SelfVerifier | null
  /** The last tick the worker recorded (its number and highest hostcall id), null after a failure. */
  lastRecorded: { tickNumber: bigint, highestId: number } | null = null
  /** The raw state of the last `encodeLive`, to compare with the last tick's post-state. */
  lastLiveState: Uint8Array | null = null
  readonly lineage: AgentLineage | undefined
  readonly restartSandbox: AgentHostInit['restartSandbox']
  /** When this agent's shared worker was lost lately (performance.now()). */
  evictions: number[] = []
  probation: boolean
  /** SPEC §13: the node's egress policy, and this agent's `--http-rate` allowance (kept across sandbox restarts). */
  readonly egress: EgressPolicy | null
  readonly httpRate: HttpRateLimiter | null
  /** SPEC §15 the stay's open receipt; null when the node signs none. */
  readonly receipts: ReceiptBook | null
  /** SPEC §15 wallet_pay: every payment of the agent (pending until the next checkpoint); null: none are logged. */
  readonly payments: PaymentLog | null
  /** SPEC §15 wallet_pay: the tick and budget of the last durable checkpoint (what a payment's sidecar names). */
  durable: { tick: bigint, budget: bigint }
  /** SPEC §15 settlement: the budget adapter, and the refusal in force (`budget not valid: …`, shown as halted). */
  readonly budgetAdapter: BudgetAdapter | null
  budgetRefusal: string | null = null
  /**
   * SPEC §16 "Moving for price": set while the node's price is above the
   * agent's `max_price_per_second` and no node within it took the agent
   * (`waiting for a node within max price`). Like a budget refusal it holds
   * the tick loop (no ticks, nothing charged; the lease is still renewed and
   * status shows the reason) until it is cleared.
   */
  priceHold: string | null = null
  /** SPEC §16 `request_move`: a move the agent asked for is being placed (the next ticks' calls answer −2). */
  movePending = false

  constructor(init: AgentHostInit, pause: (reason: string) => void) {
    this.agentId = init.agentId
    this.module = init.module
    this.sandbox = init.sandbox
    this.lease = init.lease
    this.budget = init.budget
    this.price = init.price ?? { value: init.pricePerSecond }
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
        pause
      })
      : null
    this.lineage = init.lineage
    this.restartSandbox = init.restartSandbox
    this.probation = init.probation === true
    this.egress = init.egress?.policy ?? null
    this.httpRate = init.egress !== undefined ? new HttpRateLimiter(init.egress.ratePerSecond) : null
    this.receipts = init.receipts ?? null
    this.payments = init.payments ?? null
    this.durable = { tick: init.tickNumber, budget: init.budget }
    this.budgetAdapter = init.budgetAdapter ?? null
  }

  /**
   * SPEC §15 settlement: the adapter's cached verdict for the next tick. A
   * refusal pauses ticking (status shows it) until a later verdict is valid;
   * no operator needed. An adapter that throws changes nothing.
   */
  budgetAllowsTick(): boolean {
    if (this.budgetAdapter === null) return true
    let verdict
    try {
      verdict = this.budgetAdapter.validateBudget(this.agentId, this.budget)
    } catch (error) {
      this.log.error({}, `budget adapter failed: ${(error as Error).message}; the last verdict stands`)
      return this.budgetRefusal === null
    }
    if (verdict.valid) {
      if (this.budgetRefusal !== null) this.log.info({}, `budget valid again; ticking (was ${this.budgetRefusal})`)
      this.budgetRefusal = null
      return true
    }
    const reason = budgetRefusalReason(verdict.reason)
    if (this.budgetRefusal !== reason) {
      this.budgetRefusal = reason
      this.log.warn({ budget: this.budget.toString() }, `agent paused: ${reason}`)
      runtimeEvents.halt(this.agentId, reason)
    }
    return false
  }

  /** Every halt goes through here, so it is counted when it happens (issue 22: not when a scrape sees it). */
  haltWith(reason: string): void {
    if (this.halted === reason) return
    this.halted = reason
    runtimeEvents.halt(this.agentId, reason)
  }

  /** SPEC §7: the key a tombstone keeps, so only this agent can come back under its id. */
  agentKey(): { agentKey?: string } {
    return this.lineage !== undefined ? { agentKey: this.lineage.identity.publicKeyHex } : {}
  }

  /** SPEC §15: the node's price now; every charge, checkpoint and package reads it here (`igord price set` applies from the next tick). */
  get pricePerSecond(): bigint {
    return this.price.value
  }

  /** SPEC §5/§11 metering: elapsed ns × the current price, the sub-microcent remainder carried. */
  charge(elapsedNs: bigint): void {
    const charge = chargeTick(this.budget, this.pricePerSecond, elapsedNs, this.carry)
    this.budget = charge.budget
    this.carry = charge.carry
  }

  /**
   * SPEC §15: a charge outside a tick (checkpoint copy, start-up) is taken
   * only once the stay has run a tick, so it fits a receipt (`epochStart ≤
   * epochEnd`); before that it waits in the sandbox for the next checkpoint.
   */
  mayChargeOutsideTick(): boolean {
    return this.receipts === null || this.receipts.canCharge(this.tickNumber)
  }

  cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  /**
   * SPEC §13 output gate: an effect may leave this node only while it is the
   * agent's ACTIVE_OWNER with an unexpired lease (grace does not count), and
   * the agent is neither stopped nor halted.
   */
  mayAct(): boolean {
    return !this.stopped && this.halted === null && this.lease.state === AuthorityState.ACTIVE_OWNER && !this.lease.isExpired()
  }
}
