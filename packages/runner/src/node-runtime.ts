import type { Epoch } from '@igor/epoch'
import { systemClock } from '@igor/lease'
import type { AgentHost, AgentStatus, HandoffSnapshot, ReceiptsSnapshot } from './agent-host.js'
import type { FenceStore } from './authority/fences.js'
import type { AuthorityHolding, AuthorityStake } from './authority/holdings.js'
import type { StakeSigner } from './authority/stake.js'
import { type CallMarker, type CapabilityName, type EgressPolicy, silentLogger, workerPool } from '@igor/sandbox'
import { CheckpointStore } from './store/index.js'
import { openContainment } from './containment/quarantine.js'
import { AdmissionGuard } from './containment/admission-guard.js'
import type { ImportRequest } from './lineage/import.js'
import { Admission } from './node/admission.js'
import { AuthorityDesk } from './node/authority.js'
import { NodeContext } from './node/context.js'
import { Lifecycle } from './node/lifecycle.js'
import { AgentLoader } from './node/loader.js'
import { DEFAULT_MIN_FREE_DISK_BYTES, type IncomingAgent, type NodeRuntimeOptions, type StartAgentOptions } from './node/types.js'
import { NodePrice, type PriceSource, checkPrice, readDurablePrice, writeDurablePrice } from './node/price.js'
import { Mutex } from './mutex.js'
import { type DiskShortage, HistoryDiskGuard } from './lineage/history-disk-guard.js'
import { runtimeEvents } from './observer.js'

export { DEFAULT_MIN_FREE_DISK_BYTES } from './node/types.js'
export type { IncomingAgent, NodeRuntimeOptions, StartAgentOptions } from './node/types.js'
export { agentIdFor } from './node/lifecycle.js'
export { MAX_PRICE_PER_SECOND, PRICE_FILE, checkPrice, readDurablePrice, type DurablePrice, type PriceSource } from './node/price.js'

/** SPEC §15: the node's price as `igord price` shows it. */
export interface NodePriceInfo {
  readonly pricePerSecond: bigint
  readonly source: PriceSource
  /** Unix ns of the last change, when known. */
  readonly setAtNs: bigint | null
}

/** SPEC §15 `/igor/price/1.0.0` answer (ours): the price and what an arriving agent can get here. */
export interface PriceOffer {
  readonly pricePerSecond: bigint
  /** Capabilities an agent arriving by migration may declare here, sorted. */
  readonly capabilities: readonly string[]
  /** Agents held (halted ones too) and loads in progress. */
  readonly agents: number
  /** `--max-agents`, 0 = no cap. */
  readonly maxAgents: number
}

/** SPEC §11: how long shutdown waits for agents' calls in progress and final checkpoints before it stops them. */
const SHUTDOWN_CALLS_MS = 5_000

/**
 * Every agent this node holds: the ones it ticks, the ones halted or awaiting
 * recovery, and tombstones of the ones that left. It is the single place that
 * decides what a (re)started node may run (SPEC §5 restart, §7 durable record).
 *
 * The work is done by the parts in `node/`, which share one `NodeContext`
 * (store, options, call marker, the agents held): `Lifecycle` (starts,
 * restarts, halts at start, quarantine, status), `AgentLoader` (module +
 * checkpoint → running AgentHost), `Admission` (arrivals, SPEC §7 target) and
 * `AuthorityDesk` (recover, retire, authority answers). The hand-off's source
 * side is the agent's own (`AgentHost`); this class finds the host and hands on.
 */
export class NodeRuntime {
  readonly store: CheckpointStore
  /** Fences promised to peers by `/igor/authority/1.0.0` (issue 12 item 4). */
  readonly fences: FenceStore
  /** SPEC §13 the node's egress policy, shared by every agent here. */
  readonly egress: EgressPolicy
  private readonly ctx: NodeContext
  private readonly lifecycle: Lifecycle
  private readonly admission: Admission
  private readonly authority: AuthorityDesk

  private readonly priceChanges = new Mutex()

  private constructor(store: CheckpointStore, options: NodeRuntimeOptions, marker: CallMarker, suspectIds: ReadonlySet<string> = new Set(), price?: NodePrice) {
    this.ctx = new NodeContext(store, options, marker, suspectIds, price)
    this.store = this.ctx.store
    this.fences = this.ctx.fences
    this.egress = this.ctx.egress
    const loader = new AgentLoader(this.ctx)
    this.lifecycle = new Lifecycle(this.ctx, loader)
    this.admission = new Admission(this.ctx, loader)
    this.authority = new AuthorityDesk(this.ctx)
  }

  /** SPEC §7 "What a peer can and cannot do", §11: admissions marked while in progress; peers and ids that killed the node refused at the door. */
  get admissions(): AdmissionGuard {
    return this.ctx.admissions
  }

  set admissions(guard: AdmissionGuard) {
    this.ctx.admissions = guard
  }

  static async open(options: NodeRuntimeOptions): Promise<NodeRuntime> {
    workerPool.prewarm()
    const store = await CheckpointStore.open(options.dataDir)
    const clock = options.clock ?? systemClock
    const log = options.logger ?? silentLogger
    // SPEC §15: a durable price (an earlier `price set`) wins unless this start gave one explicitly.
    checkPrice(options.pricePerSecond, '--price-per-second')
    const explicit = options.pricePerSecondExplicit === true
    const durable = await readDurablePrice(options.dataDir).catch((error: unknown) => {
      if (explicit) return null // a damaged file is replaced by the explicit price below
      throw error
    })
    const { price, write } = NodePrice.resolve(options.pricePerSecond, explicit, durable)
    if (write) {
      const setAtNs = clock.nowNs()
      await writeDurablePrice(options.dataDir, { pricePerSecond: price.value, setAtNs, by: '--price-per-second' })
      price.setAtNs = setAtNs
      if (durable !== null) log.info({ pricePerSecond: price.value.toString(), was: durable.pricePerSecond.toString() }, 'node price: --price-per-second replaces the durable price')
    } else if (price.source === 'durable') {
      log.info({ pricePerSecond: price.value.toString(), flagDefault: options.pricePerSecond.toString() }, 'node price: the durable price set by the operator (igord price set) is in force')
    }
    const { marker, suspects } = await openContainment(options.dataDir, store, () => clock.nowNs(), log)
    const runtime = new NodeRuntime(store, options, marker, suspects, price)
    runtime.admissions = await AdmissionGuard.open(options.dataDir, store.dir, () => clock.nowNs(), options.logger ?? silentLogger)
    for (const agentId of await store.listAgents()) {
      const record = await store.readQuarantine(agentId).catch(() => null)
      if (record !== null) runtime.ctx.quarantined.set(agentId, record)
    }
    // SPEC §12 (ours): the history disk guard (statfs on a timer and at segment rolls; unref'd).
    runtime.ctx.diskGuard = new HistoryDiskGuard({
      checkpointsDir: store.dir,
      minFree: options.historyMinFree,
      minFreeDiskBytes: options.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES,
      statfs: options.historyDiskStatfs,
      skip: (agentId) => runtime.ctx.busy.has(agentId),
      log,
      intervalMs: options.historyDiskIntervalMs,
      onPrune: (bytes, files, agents) => { runtimeEvents.historyDiskPrune(bytes, files, agents) }
    })
    runtime.ctx.diskGuard.start()
    return runtime
  }

  /** SPEC §12 (ours): free disk below `--history-min-free` with every agent's history down to its newest segment, or null. */
  get historyDiskShortage(): DiskShortage | null {
    return this.ctx.diskGuard?.shortage ?? null
  }

  /** SPEC §12 (ours): one round of the history disk guard now (tests; the node runs it on a timer and at segment rolls). */
  async checkHistoryDisk(): Promise<void> {
    await this.ctx.diskGuard?.check()
  }

  /** SPEC §15: the node's current price, microcents per second (what every agent here pays from its next tick). */
  get pricePerSecond(): bigint {
    return this.ctx.price.value
  }

  /** SPEC §15 `igord price`: the price, where it came from and when it last changed. */
  get price(): NodePriceInfo {
    return { pricePerSecond: this.ctx.price.value, source: this.ctx.price.source, setAtNs: this.ctx.price.setAtNs }
  }

  /**
   * SPEC §15 `igord price set`: validates (0 … 2^63-1, `PRICE_INVALID`),
   * makes the price durable in `<data-dir>/price.json` (atomic; a failed write
   * changes nothing), then puts it in force: every agent is charged at it from
   * its next tick. Logged. Changes run one at a time.
   */
  async setPrice(microcents: bigint | string): Promise<{ previous: bigint, price: NodePriceInfo }> {
    const value = checkPrice(microcents)
    return this.priceChanges.run(async () => {
      const previous = this.ctx.price.value
      const setAtNs = this.ctx.clock.nowNs()
      await writeDurablePrice(this.ctx.options.dataDir, { pricePerSecond: value, setAtNs, by: 'price set' })
      this.ctx.price.value = value
      this.ctx.price.source = 'set'
      this.ctx.price.setAtNs = setAtNs
      this.ctx.log.info({ pricePerSecond: value.toString(), was: previous.toString() }, `node price set: ${previous} → ${value} microcents per second, from each agent's next tick`)
      return { previous, price: this.price }
    })
  }

  /** SPEC §15 `/igor/price/1.0.0` (ours): the price and what an arriving agent can get here. */
  priceOffer(): PriceOffer {
    return {
      pricePerSecond: this.ctx.price.value,
      capabilities: [...this.ctx.offeredToArrivals].sort(),
      agents: this.ctx.heldCount(),
      maxAgents: this.ctx.options.maxAgents ?? 0
    }
  }

  /**
   * SPEC §16 `igord drain`: from now on every arrival (by migration or `igord
   * import`) is refused with `NODE_DRAINING`, a definite refusal that moves a
   * peer's placement on. There is no way back: a drained node stops.
   */
  startDraining(): void {
    if (!this.ctx.draining) this.ctx.log.info({}, 'draining: arrivals are refused from now on')
    this.ctx.draining = true
  }

  /** SPEC §16: whether `startDraining` was called. */
  get draining(): boolean {
    return this.ctx.draining
  }

  get capabilities(): ReadonlySet<CapabilityName> {
    return this.ctx.offered
  }

  host(agentId: string): AgentHost | undefined {
    return this.ctx.hosts.get(agentId)
  }

  /**
   * Issue 21 `igord receipts` on a running node: the agent's receipts file is
   * brought up to its open receipt (a periodic checkpoint may have put the
   * write off) and its SPEC §15 files read as one state. Null when the agent
   * is not hosted here.
   */
  async receiptsSnapshot(agentId: string): Promise<ReceiptsSnapshot | null> {
    return await this.ctx.hosts.get(agentId)?.receiptsSnapshot() ?? null
  }

  /** The ids of the agents this node hosts now (SPEC §16: what the node reviews when its price changes). */
  agentIds(): string[] {
    return [...this.ctx.hosts.keys()]
  }

  /**
   * SPEC §11 containment: the agents that were inside a call when the last
   * process died (and are not quarantined). Callers load them after every
   * other agent and one at a time; each is held until its first tick, and
   * while it loads and first ticks no other agent is inside a call, so a
   * death there is counted against it alone, not against an innocent agent
   * loading or ticking beside it.
   */
  get suspects(): ReadonlySet<string> {
    return this.ctx.suspectIds
  }

  // ── lifecycle: starts, restarts, status, quarantine (node/lifecycle.ts) ─────

  /** `--run-agent`: load a new agent, or resume it from its checkpoint (SPEC §5 restart). */
  async startAgent(options: StartAgentOptions): Promise<AgentStatus> {
    return this.lifecycle.startAgent(options)
  }

  /**
   * Resumes every agent stored in the data directory that is not already
   * running (agents that arrived by migration, or ran here before). Failures
   * are reported per agent and never stop the others.
   */
  async resumeStoredAgents(concurrency = 1, options: { skipSuspects?: boolean } = {}): Promise<Array<{ agentId: string, error?: string }>> {
    return this.lifecycle.resumeStoredAgents(concurrency, options)
  }

  /** SPEC §6 status: live agents, agents that failed to load, and tombstones (RETIRED). */
  async status(): Promise<AgentStatus[]> {
    return this.lifecycle.status()
  }

  /** `igord release <agentId>`: lifts a quarantine, or a refusal at the door (SPEC §11). */
  async release(agentId: string): Promise<AgentStatus> {
    return this.lifecycle.release(agentId)
  }

  // ── recovery, retirement, authority answers (node/authority.ts) ─────────────

  /** `igord recover <agentId>`: the explicit recovery action (SPEC §3 RECOVERY_REQUIRED → ACTIVE_OWNER). */
  async recover(agentId: string): Promise<AgentStatus> {
    return this.authority.recover(agentId)
  }

  /** `igord retire <agentId>` (issue 12 item 2): drops a stale copy, never the live owner. */
  async retire(agentId: string, movedTo = 'retired by operator', why = 'retired by the operator'): Promise<AgentStatus> {
    return this.authority.retire(agentId, movedTo, why)
  }

  /** `/igor/authority/1.0.0`, answering side (issue 12 item 4). */
  async answerAuthorityQuery(agentId: string, asked: Epoch, stake: AuthorityStake, waitMs = 20_000): Promise<AuthorityHolding> {
    return this.authority.answerAuthorityQuery(agentId, asked, stake, waitMs)
  }

  /** The asking side's proof of stake (SPEC §7): the agent key and its latest checkpoint header here, or null. */
  async authorityStake(agentId: string): Promise<StakeSigner | null> {
    return this.authority.authorityStake(agentId)
  }

  /** Agents this node holds in RECOVERY_REQUIRED with a live instance, with the peer of their interrupted hand-off. */
  recoveryCandidates(): Array<{ agentId: string, epoch: Epoch, peer?: string }> {
    return this.authority.recoveryCandidates()
  }

  /** recover(), only if the agent is still RECOVERY_REQUIRED at `epoch` (the epoch the peers were asked about). */
  async recoverAt(agentId: string, epoch: Epoch): Promise<AgentStatus> {
    return this.authority.recoverAt(agentId, epoch)
  }

  /** retire(), only if the agent is still at `epoch` (never the owner: retireStale refuses ACTIVE_OWNER). */
  async retireAt(agentId: string, epoch: Epoch, movedTo: string, why: string): Promise<AgentStatus> {
    return this.authority.retireAt(agentId, epoch, movedTo, why)
  }

  /** Checkpoints and stops every agent (SPEC §5 shutdown). */
  async shutdown(): Promise<void> {
    this.ctx.closed = true
    await this.ctx.diskGuard?.stop()
    this.ctx.marker.silence() // SPEC §11: a kill -9 during the final checkpoints is the operator's, not an agent's
    // SPEC §11 fair share: shutdown is bounded; a call still running after SHUTDOWN_CALLS_MS is stopped there.
    const hosts = [...this.ctx.hosts.values()]
    const bound = setTimeout(() => { for (const host of hosts) host.abortCalls() }, SHUTDOWN_CALLS_MS)
    await Promise.all(hosts.map(async (host) => host.stop()))
    clearTimeout(bound)
    this.ctx.hosts.clear()
    await workerPool.close()
    this.ctx.marker.close() // no call in flight any more: nothing for the next start to count
    this.ctx.admissions.close()
  }

  // ── hand-off, source side (SPEC §7; the steps are AgentHost's) ──────────────

  async beginHandoff(agentId: string, peer: string): Promise<HandoffSnapshot> {
    return this.ctx.requireHost(agentId).beginHandoff(peer)
  }

  async markHandoffPending(agentId: string, peer: string): Promise<void> {
    await this.ctx.requireHost(agentId).markHandoffPending(peer)
  }

  async completeHandoff(agentId: string, movedTo: string): Promise<void> {
    const host = this.ctx.requireHost(agentId)
    await host.retire(movedTo)
    this.ctx.hosts.delete(agentId)
  }

  async revertHandoff(agentId: string, reason: string): Promise<Epoch> {
    return this.ctx.requireHost(agentId).revertHandoff(reason)
  }

  async failHandoff(agentId: string, reason: string): Promise<void> {
    await this.ctx.requireHost(agentId).failHandoff(reason)
  }

  // ── hand-off, target side (SPEC §7; node/admission.ts) ──────────────────────

  /**
   * Verifies an incoming agent, loads it, grants it `(M+1,0)` and persists the
   * checkpoint at that epoch — everything before the success reply. The agent
   * does not tick until `startAdmitted`. Any failure leaves no files behind.
   */
  async admitAgent(incoming: IncomingAgent): Promise<AgentStatus> {
    return this.admission.admitAgent(incoming)
  }

  /** `igord resume <checkpoint> --wasm <wasm>`: validates a copied checkpoint fully, then stores it. */
  async importCheckpoint(request: ImportRequest): Promise<void> {
    await this.admission.importCheckpoint(request)
  }

  /** Starts ticking an admitted agent (after the success reply was sent). */
  startAdmitted(agentId: string): void {
    this.ctx.requireHost(agentId).start()
  }
}
