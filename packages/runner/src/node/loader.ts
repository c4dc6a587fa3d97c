// SPEC §5 restart, §3 authority on restart, §11 containment, §12 lineage: turning a module and an
// optional checkpoint into a running AgentHost — the refusal of retired agents, the lease a start or
// restart gets (never a second live copy after an interrupted hand-off), the sandbox start marked as
// loading, and the starting records (module, authority record, checkpoint at the new or renewed epoch)
// written while the worker loads, or only after it loaded for an arrival. Used by lifecycle (operator
// starts and restarts) and admission (arrivals).
import type { Checkpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AuthorityState, Lease } from '@igor/lease'
import { AgentHost } from '../agent-host.js'
import { RunnerError } from '../errors.js'
import { AgentSandbox, DEFAULT_AGENTS_PER_WORKER, DEFAULT_HTTP_RATE, type Logger, type Manifest, type PreparedAgent, markCalls, prepareAgentModule } from '@igor/sandbox'
import type { AuthorityRecord } from '../store/index.js'
import type { AgentLineage } from '../lineage/agent-lineage.js'
import { openLineage, writeIdentity } from '../lineage/open.js'
import { DEFAULT_REPLAY_SETTINGS } from '@igor/replay'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import type { BudgetAdapter } from '../settlement/types.js'
import { DEFAULT_RECEIPT_SPAN_NS, type ReceiptBook, type StayPrior, beginStay } from '../receipts/index.js'
import { type PaymentLog, beginPayments, openPayments } from '../payments/index.js'
import { hex } from './context.js'
import type { NodeContext } from './context.js'

const HANDOFF_STATES: ReadonlySet<string> = new Set([AuthorityState.HANDOFF_INITIATED, AuthorityState.HANDOFF_PENDING, AuthorityState.RECOVERY_REQUIRED])

/** Loads and instantiates agents for one node (see the file comment). */
export class AgentLoader {
  constructor(private readonly ctx: NodeContext) {}

  /** Loads an agent given by the operator or stored on disk, resuming from its checkpoint when there is one. */
  async load(agentId: string, source: { wasm: Uint8Array, manifest: Manifest, path: string, budget: bigint, mustResume?: boolean }): Promise<AgentHost> {
    if (this.ctx.hosts.has(agentId)) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is already running on this node`)
    const authority = await this.ctx.store.readAuthority(agentId)
    const tombstone = await this.ctx.store.readTombstone(agentId)
    const stored = await this.ctx.store.loadBytes(agentId)
    const checkpoint = stored?.checkpoint ?? null
    if (authority?.state === AuthorityState.RETIRED || (checkpoint === null && tombstone !== null)) {
      const where = tombstone !== null ? ` to ${tombstone.movedTo} at ${tombstone.epoch}` : ''
      if (checkpoint !== null) await this.ctx.store.delete(agentId) // left over from a crash mid-retirement
      throw new RunnerError('AGENT_RETIRED', `agent ${agentId} was handed off${where}; a retired agent is never started again here`)
    }
    if (checkpoint === null && source.mustResume === true) {
      throw new RunnerError('AGENT_NOT_FOUND', `agent ${agentId} has no checkpoint to resume`)
    }
    // SPEC §12: the agent's identity and chain; refuses a missing or foreign key for a signed checkpoint.
    const lineage = await openLineage(this.ctx.store.dir, agentId, stored?.bytes ?? null, this.ctx.log.child({ agentId }), this.ctx.historyOptions(agentId))
    const lease = checkpoint === null ? this.bootstrapLease() : this.resumeLease(checkpoint, authority)
    const host = await this.instantiate(agentId, {
      lineage,
      wasm: source.wasm,
      manifest: source.manifest,
      path: source.path,
      lease,
      checkpoint,
      budget: source.budget,
      // SPEC §15: every agent on the node pays the node's current price, a resumed one too (the reference keeps its checkpoint's).
      pricePerSecond: this.ctx.price.value,
      receipts: checkpoint === null ? [] : 'disk',
      payments: checkpoint === null ? [] : 'disk',
      // The peer of an interrupted hand-off stays on record: recovery asks it (issue 12 item 4).
      ...(lease.state === AuthorityState.RECOVERY_REQUIRED && authority?.peer !== undefined ? { peer: authority.peer } : {})
    })
    try {
      if (tombstone !== null) await this.ctx.store.deleteTombstone(agentId)
    } catch (error) {
      this.ctx.hosts.delete(agentId)
      await host.stop().catch(() => undefined)
      throw error
    }
    this.ctx.failed.delete(agentId)
    const status = host.status()
    this.ctx.log.info({
      agentId,
      resumed: checkpoint !== null,
      state: status.state,
      epoch: status.epoch.toString(),
      leaseExpiry: status.leaseExpiry.toString(),
      tickNumber: status.tickNumber.toString(),
      budget: status.budget.toString()
    }, checkpoint === null ? 'agent started' : 'agent resumed from checkpoint')
    return host
  }

  /** SPEC §11: loading is marked, so a node that dies while loading this agent knows it at the next start. */
  async instantiate(agentId: string, source: Parameters<AgentLoader['instantiateMarked']>[1]): Promise<AgentHost> {
    return this.ctx.marker.around(agentId, 'loading', async () => this.instantiateMarked(agentId, source))
  }

  private async instantiateMarked(agentId: string, source: {
    wasm: Uint8Array
    manifest: Manifest
    path: string
    lease: Lease
    checkpoint: Checkpoint | null
    budget?: bigint
    pricePerSecond: bigint
    prepared?: PreparedAgent
    peer?: string
    /** Write nothing until the sandbox has loaded and resumed the agent (arrivals by migration). */
    loadBeforeWriting?: boolean
    lineage?: AgentLineage
    /** Write the lineage's identity file first (an arrival's identity, SPEC §12). */
    writeIdentity?: boolean
    /** With loadBeforeWriting: checks the loaded agent before anything is written; throwing refuses it. */
    verifyLoaded?: (sandbox: AgentSandbox) => Promise<void>
    /** SPEC §15: the receipts before this stay ('disk' for a restart); default none. */
    receipts?: StayPrior
    /** SPEC §15 wallet_pay: the payments before this stay ('disk' for a restart, an arrival's verified list); default none. */
    payments?: 'disk' | readonly Uint8Array[]
  }): Promise<AgentHost> {
    const prepared = source.prepared ?? await this.prepare(source.wasm, source.path, source.manifest)
    if (source.checkpoint !== null && hex(source.checkpoint.wasmHash) !== hex(prepared.wasmHash)) {
      throw new RunnerError('HASH_MISMATCH', `${source.path}: binary SHA-256 ${hex(prepared.wasmHash)} does not match the checkpoint's ${hex(source.checkpoint.wasmHash)}`)
    }
    const tickNumber = source.checkpoint?.tickNumber ?? 0n
    const logger = this.ctx.log.child({ agentId })
    // SPEC §15 wallet_pay: a restart first resolves the payments sidecar against its checkpoint; payments made
    // after it are taken off its budget (`cut`), and the restart checkpoint below is written with that budget.
    let opened: { payments: PaymentLog, unreflected: bigint, cut: bigint } | null = null
    if (source.payments === 'disk' && source.checkpoint !== null) {
      opened = await openPayments(this.ctx.store.dir, agentId, { tick: source.checkpoint.tickNumber, budget: source.checkpoint.budget }, logger)
    }
    const budget = (source.checkpoint?.budget ?? source.budget ?? 0n) - (opened?.cut ?? 0n)
    const startSandbox = async (state: Uint8Array | null, startBudget: bigint, solo: boolean): Promise<AgentSandbox> => AgentSandbox.start({
      agentId,
      module: prepared.module,
      capabilities: [...prepared.capabilities],
      usesWasi: prepared.usesWasi,
      entry: prepared.entry,
      // SPEC §16 request_move: −1 when the manifest disables migration.
      migrationEnabled: source.manifest.migration.enabled,
      // SPEC §12: every live agent records its observations (for self-verification and ReplayData).
      observe: { mode: 'record' }
    }, {
      budget: startBudget,
      price: source.pricePerSecond, // SPEC §15: node_price during agent_init/resume; every tick sends the current one
      state,
      logger,
      agentsPerWorker: solo ? 1 : this.agentsPerWorker(source.manifest),
      ...(this.ctx.options.sandboxLimits !== undefined ? { limits: this.ctx.options.sandboxLimits } : {})
    })
    // Issue 11: an arrival from a peer starts in a worker of its own (probation) and moves to a shared one
    // at its first checkpoint here, so a package whose start loops cannot evict the agents it would share with.
    const probation = source.loadBeforeWriting === true && this.agentsPerWorker(source.manifest) > 1
    const sandboxStarting = startSandbox(source.checkpoint?.state ?? null, budget, probation)
      .catch((error: unknown) => {
        throw new RunnerError('AGENT_INIT_FAILED', `${source.path}: ${source.checkpoint === null ? 'agent_init' : 'resume'} failed: ${(error as Error).message}`, { cause: error })
      })
    // With a checkpoint in hand its state is the agent's state, so the starting
    // records (module copy, authority record, checkpoint at the new or renewed
    // epoch) are written while the worker loads the agent, not after.
    const checkpointInput = source.checkpoint === null
      ? null
      : {
          budget,
          pricePerSecond: source.pricePerSecond,
          tickNumber,
          wasmHash: prepared.wasmHash,
          epoch: source.lease.epoch,
          leaseExpiry: source.lease.expiry,
          state: source.checkpoint.state
        }
    // SPEC §12: at the same tick as the checkpoint it resumes, so it takes that one's place in the chain.
    // Sealed (signed) now, while the worker loads the agent; sealing does not move the chain's head.
    const sealed = checkpointInput !== null && source.lineage !== undefined ? source.lineage.seal(checkpointInput) : null
    const persist = async (): Promise<void> => {
      await this.ctx.store.saveModule(agentId, source.wasm, source.manifest.raw)
      if (checkpointInput === null) return
      if (source.writeIdentity === true && source.lineage !== undefined) await writeIdentity(this.ctx.store.dir, agentId, source.lineage.identity)
      await this.ctx.store.writeAuthority(agentId, authorityRecord(source.lease, this.ctx.clock.nowNs(), source.peer))
      if (sealed !== null && source.lineage !== undefined) await source.lineage.persist(this.ctx.store, agentId, sealed)
      else await this.ctx.store.save(agentId, checkpointInput)
    }
    // An arrival writes only after its sandbox loaded and resumed it (and passed verifyLoaded): a package
    // that cannot load (or kills the process while loading) leaves no file (issue 8 point 6).
    const persisting = source.loadBeforeWriting === true
      ? sandboxStarting.then(async (sandbox) => {
          await source.verifyLoaded?.(sandbox)
          await persist()
        })
      : persist()
    const [started, persisted] = await Promise.allSettled([sandboxStarting, persisting])
    if (started.status === 'rejected' || persisted.status === 'rejected') {
      if (started.status === 'fulfilled') await started.value.terminate()
      throw started.status === 'rejected' ? started.reason : (persisted as PromiseRejectedResult).reason
    }
    let receipts: ReceiptBook | undefined
    let payments: PaymentLog
    try {
      // SPEC §15 wallet_pay: the payments log first (a restart resolves its sidecar against the checkpoint),
      // then the receipts (their repair leaves out the payments the checkpoint holds), then the sidecar goes.
      let unreflected = 0n
      if (opened !== null) {
        payments = opened.payments
        unreflected = opened.unreflected
      } else {
        payments = await beginPayments(this.ctx.store.dir, agentId, source.payments === 'disk' ? [] : source.payments ?? [])
      }
      receipts = await this.beginReceipts(agentId, source.receipts ?? [], { tick: tickNumber, budget }, logger, unreflected)
      await payments.settle()
    } catch (error) {
      await started.value.terminate()
      throw error
    }
    const host = new AgentHost({
      agentId,
      module: { prepared, wasm: source.wasm, manifest: source.manifest },
      sandbox: markCalls(started.value, agentId, this.ctx.marker),
      lease: source.lease,
      budget,
      pricePerSecond: source.pricePerSecond,
      price: this.ctx.price, // SPEC §15: read at every charge, so `igord price set` applies from the next tick
      tickNumber,
      store: this.ctx.store,
      logger,
      timing: this.ctx.timing,
      nowNs: () => this.ctx.clock.nowNs(),
      checkpointed: source.checkpoint !== null,
      egress: { policy: this.ctx.egress, ratePerSecond: this.ctx.options.httpRatePerSecond ?? DEFAULT_HTTP_RATE },
      ...(source.peer !== undefined ? { peer: source.peer } : {}),
      replay: this.ctx.options.replay ?? DEFAULT_REPLAY_SETTINGS,
      ...(this.ctx.options.sandboxLimits !== undefined ? { sandboxLimits: this.ctx.options.sandboxLimits } : {}),
      ...(source.lineage !== undefined ? { lineage: source.lineage } : {}),
      // Issue 11: evicted from a shared worker, the agent restarts in a new sandbox (its loading is marked, SPEC §11).
      restartSandbox: async (state, restartBudget, solo) => markCalls(
        await this.ctx.marker.around(agentId, 'loading', async () => startSandbox(state, restartBudget, solo)), agentId, this.ctx.marker),
      probation,
      ...(receipts !== undefined ? { receipts } : {}),
      payments,
      ...(this.ctx.options.budgetAdapter !== undefined ? { budgetAdapter: this.ctx.options.budgetAdapter } : {})
    })
    this.ctx.hosts.set(agentId, host)
    if (source.checkpoint === null) {
      // A new agent: its first checkpoint is the state agent_init produced.
      try {
        await host.persistStart()
      } catch (error) {
        this.ctx.hosts.delete(agentId)
        await host.stop().catch(() => undefined)
        // No first checkpoint: no authority record either, so a restart treats the agent as new.
        await this.ctx.store.deleteAuthority(agentId).catch(() => undefined)
        throw error
      }
    }
    return host
  }

  /** SPEC §15: the stay's receipts, begun at its durable checkpoint; none without a node key. */
  private async beginReceipts(agentId: string, prior: StayPrior, at: { tick: bigint, budget: bigint }, log: Logger, unreflectedPaid: bigint): Promise<ReceiptBook | undefined> {
    const signer = this.ctx.options.receiptSigner
    if (signer === undefined) return undefined
    const adapter = this.ctx.options.budgetAdapter
    return beginStay({
      dir: this.ctx.store.dir,
      agentId,
      signer,
      spanNs: this.ctx.options.receiptSpanNs ?? DEFAULT_RECEIPT_SPAN_NS,
      ...(this.ctx.options.receiptsWriteEveryNs !== undefined ? { writeEveryNs: this.ctx.options.receiptsWriteEveryNs } : {}),
      nowNs: () => this.ctx.clock.nowNs(),
      log,
      ...(adapter !== undefined ? { settle: settleWith(adapter, log) } : {})
    }, prior, at, unreflectedPaid)
  }

  /** Issue 11: how many agents the worker this agent is placed in may host. */
  private agentsPerWorker(manifest: Manifest): number {
    // SPEC §13: an HTTP request blocks its thread for up to 15 s; a neighbour must not wait on it.
    if (manifest.http !== null) return 1
    return Math.max(1, this.ctx.options.agentsPerWorker ?? DEFAULT_AGENTS_PER_WORKER)
  }

  /** Capabilities this node offers, then the module checks and compile (SPEC §5, §7 target 2). */
  async prepare(wasm: Uint8Array, path: string, manifest: Manifest): Promise<PreparedAgent> {
    for (const capability of manifest.capabilities.keys()) {
      if (!this.ctx.offered.has(capability)) {
        throw new RunnerError('UNDECLARED_CAPABILITY', `${path}: capability "${capability}" is not offered by this node`)
      }
    }
    return prepareAgentModule(wasm, { path, manifest })
  }

  private bootstrapLease(): Lease {
    return this.ctx.options.lease === null ? Lease.unbounded(Epoch.ZERO, this.ctx.clock) : Lease.bootstrap(this.ctx.options.lease, this.ctx.clock)
  }

  /**
   * SPEC §3/§5 restart: the stored epoch renewed once, never lower than the
   * authority record; a restart in the middle of a hand-off (or of a recovery)
   * comes back as RECOVERY_REQUIRED, never as a second live copy.
   */
  private resumeLease(checkpoint: Checkpoint, authority: AuthorityRecord | null): Lease {
    const stored = authority !== null && authority.epoch.supersedes(checkpoint.epoch) ? authority.epoch : checkpoint.epoch
    if (authority !== null && HANDOFF_STATES.has(authority.state)) {
      // Issue 12 item 2: a copy that is not the owner comes back at the epoch it
      // held — a restart never raises a RECOVERY_REQUIRED copy's generation (only
      // an explicit or network-assisted recovery does).
      const reason = authority.state === AuthorityState.RECOVERY_REQUIRED
        ? (authority.reason ?? 'authority was ambiguous before the restart')
        : `restarted during a hand-off (${authority.state}${authority.peer !== undefined ? ` to ${authority.peer}` : ''}); run \`igord recover\` only if the target does not run it`
      return Lease.restore(stored, this.ctx.options.lease === null ? 0n : checkpoint.leaseExpiry, AuthorityState.RECOVERY_REQUIRED, this.ctx.options.lease, this.ctx.clock, reason)
    }
    return this.ctx.options.lease === null ? Lease.unbounded(stored, this.ctx.clock) : Lease.fromCheckpoint(stored, this.ctx.options.lease, this.ctx.clock)
  }
}

function authorityRecord(lease: Lease, nowNs: bigint, peer?: string): AuthorityRecord {
  const reason = lease.recoveryReason
  return { state: lease.state, epoch: lease.epoch, updatedAtNs: nowNs, ...(reason !== null ? { reason } : {}), ...(peer !== undefined ? { peer } : {}) }
}

/** SPEC §15: the book tells the adapter; an adapter that throws is logged, never the agent's problem. */
function settleWith(adapter: BudgetAdapter, log: Logger): (receipt: PaymentReceipt, info: { sealed: boolean }) => void {
  return (receipt, info) => {
    try {
      adapter.recordSettlement(receipt, info)
    } catch (error) {
      log.error({ agentId: receipt.agentId }, `settlement adapter failed to record a receipt: ${(error as Error).message}`)
    }
  }
}
