import { createHash } from 'node:crypto'
import { statfs } from 'node:fs/promises'
import { basename } from 'node:path'
import { type Checkpoint, CheckpointError, decodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AuthorityState, type Clock, Lease, type LeaseConfig, systemClock } from '@igor/lease'
import { AgentHost, DEFAULT_TIMING } from './agent-host.js'
import { FenceStore } from './authority/fences.js'
import { answerHolding } from './authority/holdings.js'
import { readStakeSigner } from './authority/stake.js'
import type { StakeSigner } from './authority/stake.js'
import type { AuthorityHolding, AuthorityStake } from './authority/holdings.js'
import type { AgentStatus, AgentTiming, HandoffReplayData, HandoffSnapshot } from './agent-host.js'
import { AgentSandbox, CAPABILITIES, type CallMarker, type CapabilityName, DEFAULT_AGENTS_PER_WORKER, DEFAULT_HTTP_RATE, EMPTY_MANIFEST, EgressPolicy, type Logger, type Manifest, type PreparedAgent, SandboxError, type SandboxLimits, encodeEntries, loadManifest, markCalls, parseManifest, prepareAgentModule, readWasmFile, silentLogger, workerPool } from '@igor/sandbox'
import { DEFAULT_REPLAY_SETTINGS, type ReplaySettings, describeReplayOutcome, replayTick, verifiesOnMigrate } from '@igor/replay'
import { RunnerError } from './errors.js'
import { runtimeEvents } from './observer.js'
import { CheckpointStore, validateAgentId } from './store/index.js'
import type { AuthorityRecord, QuarantineRecord, StoredModule, Tombstone } from './store/index.js'
import { clearStrikes, openContainment, quarantineReason } from './containment/quarantine.js'
import { AdmissionGuard } from './containment/admission-guard.js'
import type { AgentLineage } from './lineage/agent-lineage.js'
import { DEFAULT_AGENT_DISK_QUOTA_BYTES, HistoryArchive } from './lineage/history.js'
import type { HistoryOptions } from './lineage/history.js'
import { lineageForArrival, openLineage, readIdentityBytes, requireHeldIdentity, restoreIdentity, writeIdentity } from './lineage/open.js'
import { importCheckpoint } from './lineage/import.js'
import type { ImportRequest } from './lineage/import.js'

/** SPEC §11: how long shutdown waits for agents' calls in progress and final checkpoints before it stops them. */
const SHUTDOWN_CALLS_MS = 5_000

export interface NodeRuntimeOptions {
  readonly dataDir: string
  /** null disables leases (CLI `--lease-duration 0`): ticks without a lease, epoch unchanged. */
  readonly lease: LeaseConfig | null
  /** This node's price in microcents per second (SPEC §5 default 1000). */
  readonly pricePerSecond: bigint
  readonly logger?: Logger
  readonly clock?: Clock
  readonly timing?: Partial<AgentTiming>
  readonly sandboxLimits?: Partial<SandboxLimits>
  /** Capabilities this node offers; an agent that declares another is refused. Default: all. */
  readonly capabilities?: readonly CapabilityName[]
  /**
   * SPEC §13: capabilities offered to agents arriving by migration (igord
   * `--capabilities …,http+arrivals`). Default: `capabilities` without `http`.
   */
  readonly arrivalCapabilities?: readonly CapabilityName[]
  /** SPEC §13 the node's egress policy (`--http-allow`/`--http-deny`). Default: the built-in denials only. */
  readonly egress?: EgressPolicy
  /** SPEC §13 `--http-rate`: requests per agent per second (default 20). */
  readonly httpRatePerSecond?: number
  /** Most agents this node holds at once (`--max-agents`); loads and admissions beyond it are refused (`NODE_FULL`). */
  readonly maxAgents?: number
  /**
   * Issue 11: agents per worker thread (default `DEFAULT_AGENTS_PER_WORKER`;
   * 1 = every agent has a thread of its own). Agents that declare `http` always
   * get their own: a request blocks its thread for up to 15 s.
   */
  readonly agentsPerWorker?: number
  /** SPEC §12 `--replay-mode`, `--verify-interval`, `--replay-on-divergence` (default full, 5, log). */
  readonly replay?: ReplaySettings
  /** SPEC §11 `--agent-disk-quota`: history and checkpoint per agent, in bytes (default 1 GiB). */
  readonly agentDiskQuotaBytes?: number
  /** SPEC §11 `--min-free-disk`: below this many free bytes in the data dir, arrivals are refused (`NODE_FULL`). */
  readonly minFreeDiskBytes?: number
}

/** Default `--min-free-disk` (SPEC §11 free-space floor). */
export const DEFAULT_MIN_FREE_DISK_BYTES = 256 * 1024 * 1024

export interface StartAgentOptions {
  readonly wasmPath: string
  readonly manifestPath?: string
  /** Defaults to the file name without `.wasm`. */
  readonly agentId?: string
  /** Initial budget in microcents; ignored when resuming from a checkpoint. */
  readonly budget: bigint
}

/** An agent that arrived by migration (SPEC §7 target), already decoded from the wire. */
export interface IncomingAgent {
  readonly agentId: string
  readonly wasm: Uint8Array
  readonly wasmHash: Uint8Array
  readonly checkpoint: Uint8Array
  readonly manifestData: Uint8Array
  /** The source's live epoch `(M,G)`; this node grants `(M+1,0)`. */
  readonly sourceEpoch: Epoch
  readonly sourceNodeId: string
  /** SPEC §12 `Package.ReplayData`: replayed before acceptance in modes on-migrate and full. */
  readonly replayData?: HandoffReplayData | null
  /** SPEC §12 `Package.AgentIdentity` (68 bytes); absent from a v0x03 sender. */
  readonly identity?: Uint8Array
}

/** What this node held for an agent before an arrival, so a failed arrival puts it back exactly (SPEC §7). */
interface PriorFiles { authority: AuthorityRecord | null, checkpoint: Uint8Array | null, module: StoredModule | null, tombstone: boolean }

/** How long a suspect's first tick is waited for before the next load starts (SPEC §11). */
const SUSPECT_SETTLE_MS = 3_000

/** The id an agent given by file gets: `--agent-id`, else the file name without `.wasm`. */
export function agentIdFor(options: { agentId?: string | undefined, wasmPath: string }): string {
  return validateAgentId(options.agentId ?? basename(options.wasmPath).replace(/\.wasm$/i, ''))
}

const HANDOFF_STATES: ReadonlySet<string> = new Set([AuthorityState.HANDOFF_INITIATED, AuthorityState.HANDOFF_PENDING, AuthorityState.RECOVERY_REQUIRED])

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest()

/**
 * Every agent this node holds: the ones it ticks, the ones halted or awaiting
 * recovery, and tombstones of the ones that left. It is the single place that
 * decides what a (re)started node may run (SPEC §5 restart, §7 durable record).
 */
export class NodeRuntime {
  readonly store: CheckpointStore
  /** Fences promised to peers by `/igor/authority/1.0.0` (issue 12 item 4). */
  readonly fences: FenceStore
  private readonly hosts = new Map<string, AgentHost>()
  /** Agents found on disk that could not be loaded, with the reason. */
  private readonly failed = new Map<string, { state: AuthorityState, epoch: Epoch, reason: string }>()
  /** Serializes admission/start per agent id, so two arrivals of one agent cannot race. */
  private readonly busy = new Set<string>()
  private readonly log: Logger
  private readonly clock: Clock
  private readonly timing: AgentTiming
  private readonly offered: ReadonlySet<CapabilityName>
  /** SPEC §13: what an agent arriving by migration may declare. */
  private readonly offeredToArrivals: ReadonlySet<CapabilityName>
  /** SPEC §13 the node's egress policy, shared by every agent here. */
  readonly egress: EgressPolicy
  private closed = false
  /** SPEC §11: agents this node will not start until an operator releases them. */
  private readonly quarantined = new Map<string, QuarantineRecord>()
  /** SPEC §7 "What a peer can and cannot do", §11: admissions marked while in progress; peers and ids that killed the node refused at the door. */
  admissions: AdmissionGuard = AdmissionGuard.disabled()

  private constructor(store: CheckpointStore, private readonly options: NodeRuntimeOptions, private readonly marker: CallMarker, private readonly suspectIds: ReadonlySet<string> = new Set()) {
    this.store = store
    this.fences = new FenceStore(options.dataDir)
    this.log = options.logger ?? silentLogger
    this.clock = options.clock ?? systemClock
    this.timing = { ...DEFAULT_TIMING, ...options.timing }
    this.offered = new Set(options.capabilities ?? CAPABILITIES)
    this.offeredToArrivals = new Set((options.arrivalCapabilities ?? [...this.offered].filter((c) => c !== 'http')).filter((c) => this.offered.has(c)))
    this.egress = options.egress ?? EgressPolicy.parse()
  }

  static async open(options: NodeRuntimeOptions): Promise<NodeRuntime> {
    workerPool.prewarm()
    const store = await CheckpointStore.open(options.dataDir)
    const clock = options.clock ?? systemClock
    const { marker, suspects } = await openContainment(options.dataDir, store, () => clock.nowNs(), options.logger ?? silentLogger)
    const runtime = new NodeRuntime(store, options, marker, suspects)
    runtime.admissions = await AdmissionGuard.open(options.dataDir, store.dir, () => clock.nowNs(), options.logger ?? silentLogger)
    for (const agentId of await store.listAgents()) {
      const record = await store.readQuarantine(agentId).catch(() => null)
      if (record !== null) runtime.quarantined.set(agentId, record)
    }
    return runtime
  }

  get pricePerSecond(): bigint {
    return this.options.pricePerSecond
  }

  get capabilities(): ReadonlySet<CapabilityName> {
    return this.offered
  }

  host(agentId: string): AgentHost | undefined {
    return this.hosts.get(agentId)
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
    return this.suspectIds
  }

  /** `--run-agent`: load a new agent, or resume it from its checkpoint (SPEC §5 restart). */
  async startAgent(options: StartAgentOptions): Promise<AgentStatus> {
    const agentId = agentIdFor(options)
    return this.exclusive(agentId, async () => {
      if (this.quarantined.has(agentId)) return this.quarantineStatus(agentId, true)
      this.refuseIfFull(agentId)
      const wasm = await readWasmFile(options.wasmPath)
      const manifest = await loadManifest(options.wasmPath, options.manifestPath)
      return this.asSuspect(agentId, async () => {
        let host: AgentHost
        try {
          host = await this.load(agentId, { wasm, manifest, path: options.wasmPath, budget: options.budget })
        } catch (error) {
          // SPEC §11 failure containment: the agent's own code failing at start halts that agent only.
          if (isAgentFault(error)) return this.haltedAtStart(agentId, error)
          throw error
        }
        host.start()
        await this.settleSuspect(host)
        return host.status()
      })
    })
  }

  /**
   * SPEC §11: a suspect loads and first ticks in a window with no other agent
   * inside a call (`CallMarker.alone`), so a death there names it alone.
   */
  private async asSuspect<T>(agentId: string, run: () => Promise<T>): Promise<T> {
    if (!this.suspectIds.has(agentId)) return run()
    // The others' calls wait during the window, lease renewals among them: it stays short of a lease
    // (an agent renews with at least duration × renewalWindow left, plus the grace).
    const lease = this.options.lease
    const maxMs = lease === null
      ? SUSPECT_SETTLE_MS
      : Math.min(SUSPECT_SETTLE_MS, (lease.durationMs * lease.renewalWindow + lease.gracePeriodMs) / 2)
    return this.marker.alone(agentId, run, maxMs)
  }

  /**
   * Resumes every agent stored in the data directory that is not already
   * running (agents that arrived by migration, or ran here before). Failures
   * are reported per agent and never stop the others.
   */
  async resumeStoredAgents(concurrency = 1, options: { skipSuspects?: boolean } = {}): Promise<Array<{ agentId: string, error?: string }>> {
    // Issue 11: a restart with many stored agents loads them in parallel (bounded), like --run-agent;
    // each agent's own steps still run under its exclusive lock. Results keep the store's order.
    // SPEC §11: suspects come last, one at a time (`suspects`), or not at all with skipSuspects.
    const ids = await this.store.listAgents()
    const slots: Array<{ agentId: string, error?: string } | null> = ids.map(() => null)
    const run = async (indexes: number[], lanes: number): Promise<void> => {
      let next = 0
      const lane = async (): Promise<void> => {
        while (next < indexes.length) {
          const index = indexes[next++] as number
          slots[index] = await this.resumeStoredAgent(ids[index] as string)
        }
      }
      await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, indexes.length)) }, lane))
    }
    const all = ids.map((_, index) => index)
    await run(all.filter((index) => !this.suspectIds.has(ids[index] as string)), concurrency)
    if (options.skipSuspects !== true) await run(all.filter((index) => this.suspectIds.has(ids[index] as string)), 1)
    return slots.filter((slot): slot is { agentId: string, error?: string } => slot !== null)
  }

  /**
   * SPEC §11: a suspect is held (its load lock kept, the caller waiting)
   * until its first tick here completes, it halts, or SUSPECT_SETTLE_MS
   * pass; the next load starts only then.
   */
  private async settleSuspect(host: AgentHost): Promise<void> {
    if (!this.suspectIds.has(host.agentId)) return
    const from = host.status().tickNumber
    const until = performance.now() + SUSPECT_SETTLE_MS
    while (performance.now() < until && host.ticking && host.status().tickNumber === from) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  private async resumeStoredAgent(agentId: string): Promise<{ agentId: string, error?: string } | null> {
    // An agent already running, or one that already failed in this run (e.g. a --run-agent that trapped), is not retried.
    if (this.hosts.has(agentId) || this.failed.has(agentId)) return null
    if (this.quarantined.has(agentId)) {
      return { agentId, error: (await this.quarantineStatus(agentId, true)).halted ?? 'quarantined' }
    }
    try {
      const status = await this.exclusive(agentId, async () => {
        const stored = await this.store.loadModule(agentId)
        if (stored === null) return null
        this.refuseIfFull(agentId)
        const manifest = stored.manifest.byteLength === 0
          ? EMPTY_MANIFEST
          : parseManifest(stored.manifest, { source: `${agentId} (stored manifest)` })
        return this.asSuspect(agentId, async () => {
          const host = await this.load(agentId, { wasm: stored.wasm, manifest, path: `${agentId}.wasm (stored)`, budget: 0n, mustResume: true })
          host.start()
          await this.settleSuspect(host)
          return host.status()
        })
      })
      return status !== null ? { agentId } : null
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      if (isAgentFault(error) || (error instanceof RunnerError && error.code === 'NODE_FULL')) {
        await this.haltedAtStart(agentId, error)
        return { agentId, error: oneLine(error) }
      } else if (!(error instanceof RunnerError && error.code === 'AGENT_RETIRED')) {
        const authority = await this.store.readAuthority(agentId).catch(() => null)
        // Issue 12 item 3: status shows the state the authority record holds (the reason says why it is halted).
        this.failed.set(agentId, { state: authority?.state ?? AuthorityState.RECOVERY_REQUIRED, epoch: authority?.epoch ?? Epoch.ZERO, reason })
        this.log.error({ agentId }, `agent not started: ${reason}`)
        return { agentId, error: reason }
      }
      return null
    }
  }

  /** SPEC §6 status: live agents, agents that failed to load, and tombstones (RETIRED). */
  async status(): Promise<AgentStatus[]> {
    const rows = new Map<string, AgentStatus>()
    for (const [agentId, host] of this.hosts) rows.set(agentId, host.status())
    for (const agentId of this.quarantined.keys()) rows.set(agentId, await this.quarantineStatus(agentId, false))
    for (const [agentId, failure] of this.failed) {
      if (!rows.has(agentId)) rows.set(agentId, { agentId, state: failure.state, epoch: failure.epoch, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: failure.reason })
    }
    for (const agentId of await this.store.listAgents()) {
      if (rows.has(agentId)) continue
      const tombstone = await this.store.readTombstone(agentId).catch(() => null)
      if (tombstone !== null) rows.set(agentId, tombstoneStatus(tombstone))
    }
    return [...rows.values()].sort((a, b) => a.agentId.localeCompare(b.agentId))
  }

  /** `igord recover <agentId>`: the explicit recovery action (SPEC §3 RECOVERY_REQUIRED → ACTIVE_OWNER). */
  async recover(agentId: string): Promise<AgentStatus> {
    return this.requireHost(agentId).recover()
  }

  /**
   * `igord retire <agentId>` (issue 12 item 2): drops a stale copy — one that is
   * RECOVERY_REQUIRED or stuck in a hand-off — leaving a tombstone. Refused for
   * the live owner (ACTIVE_OWNER), so an operator can never delete the agent.
   */
  async retire(agentId: string, movedTo = 'retired by operator', why = 'retired by the operator'): Promise<AgentStatus> {
    const host = this.requireHost(agentId)
    await host.retireStale(movedTo, why)
    const status = host.status()
    if (this.hosts.get(agentId) === host) this.hosts.delete(agentId)
    return status
  }

  /**
   * `igord release <agentId>`: the explicit operator action that lifts a
   * quarantine (SPEC §11). The agent's death count starts again from 0; a
   * stored agent is resumed at once, otherwise it starts with its next
   * `--run-agent`.
   */
  async release(agentId: string): Promise<AgentStatus> {
    validateAgentId(agentId)
    // SPEC §7/§11: an agent id or a peer refused at the door is welcome again.
    const atDoor = await this.admissions.release(agentId)
    if (atDoor && !this.quarantined.has(agentId)) {
      this.log.warn({ id: agentId }, 'admissions refused at the door released by the operator')
      return { agentId, state: AuthorityState.RETIRED, epoch: Epoch.ZERO, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: 'released: its packages are admitted again' }
    }
    if (!this.quarantined.has(agentId)) throw new RunnerError('AGENT_NOT_FOUND', `agent ${agentId} is not quarantined on this node`)
    await clearStrikes(this.store, agentId)
    await this.store.deleteQuarantine(agentId)
    this.quarantined.delete(agentId)
    this.failed.delete(agentId)
    this.log.warn({ agentId }, 'quarantine released by the operator')
    await this.resumeStoredAgents()
    const row = (await this.status()).find((a) => a.agentId === agentId)
    return row ?? { agentId, state: AuthorityState.ACTIVE_OWNER, epoch: Epoch.ZERO, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: 'released; starts with its next --run-agent' }
  }

  // ── authority queries and network-assisted recovery (issue 12 item 4) ───────

  /**
   * `/igor/authority/1.0.0`, answering side: what this node holds for the agent,
   * after any admission of it in progress has finished; fenced at `asked`
   * (durably, before returning) when it holds nothing newer.
   */
  async answerAuthorityQuery(agentId: string, asked: Epoch, stake: AuthorityStake, waitMs = 20_000): Promise<AuthorityHolding> {
    validateAgentId(agentId)
    const deadline = performance.now() + waitMs
    while (this.busy.has(agentId)) {
      if (performance.now() > deadline) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is still being admitted; no answer yet`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return this.exclusive(agentId, async () => answerHolding(agentId, asked, stake, { host: this.hosts.get(agentId), store: this.store, fences: this.fences }))
  }

  /** The asking side's proof of stake (SPEC §7): the agent key and its latest checkpoint header here, or null. */
  async authorityStake(agentId: string): Promise<StakeSigner | null> {
    return readStakeSigner(this.store.dir, agentId)
  }

  /** Agents this node holds in RECOVERY_REQUIRED with a live instance, with the peer of their interrupted hand-off. */
  recoveryCandidates(): Array<{ agentId: string, epoch: Epoch, peer?: string }> {
    const out: Array<{ agentId: string, epoch: Epoch, peer?: string }> = []
    for (const [agentId, host] of this.hosts) {
      const status = host.status()
      if (status.state !== AuthorityState.RECOVERY_REQUIRED || !host.recoverable) continue
      const peer = host.handoffPeer
      out.push({ agentId, epoch: status.epoch, ...(peer !== undefined ? { peer } : {}) })
    }
    return out
  }

  /** recover(), only if the agent is still RECOVERY_REQUIRED at `epoch` (the epoch the peers were asked about). */
  async recoverAt(agentId: string, epoch: Epoch): Promise<AgentStatus> {
    this.requireAt(agentId, epoch)
    return this.recover(agentId)
  }

  /** retire(), only if the agent is still at `epoch` (never the owner: retireStale refuses ACTIVE_OWNER). */
  async retireAt(agentId: string, epoch: Epoch, movedTo: string, why: string): Promise<AgentStatus> {
    this.requireAt(agentId, epoch)
    return this.retire(agentId, movedTo, why)
  }

  private requireAt(agentId: string, epoch: Epoch): void {
    const host = this.requireHost(agentId)
    if (!host.epoch.equals(epoch)) throw new RunnerError('FENCED', `agent ${agentId} is at ${host.epoch} now, not ${epoch}; nothing done`)
  }

  /** Checkpoints and stops every agent (SPEC §5 shutdown). */
  async shutdown(): Promise<void> {
    this.closed = true
    this.marker.silence() // SPEC §11: a kill -9 during the final checkpoints is the operator's, not an agent's
    // SPEC §11 fair share: shutdown is bounded; a call still running after SHUTDOWN_CALLS_MS is stopped there.
    const hosts = [...this.hosts.values()]
    const bound = setTimeout(() => { for (const host of hosts) host.abortCalls() }, SHUTDOWN_CALLS_MS)
    await Promise.all(hosts.map(async (host) => host.stop()))
    clearTimeout(bound)
    this.hosts.clear()
    await workerPool.close()
    this.marker.close() // no call in flight any more: nothing for the next start to count
    this.admissions.close()
  }

  // ── hand-off, source side (SPEC §7) ─────────────────────────────────────────

  async beginHandoff(agentId: string, peer: string): Promise<HandoffSnapshot> {
    return this.requireHost(agentId).beginHandoff(peer)
  }

  async markHandoffPending(agentId: string, peer: string): Promise<void> {
    await this.requireHost(agentId).markHandoffPending(peer)
  }

  async completeHandoff(agentId: string, movedTo: string): Promise<void> {
    const host = this.requireHost(agentId)
    await host.retire(movedTo)
    this.hosts.delete(agentId)
  }

  async revertHandoff(agentId: string, reason: string): Promise<Epoch> {
    return this.requireHost(agentId).revertHandoff(reason)
  }

  async failHandoff(agentId: string, reason: string): Promise<void> {
    await this.requireHost(agentId).failHandoff(reason)
  }

  // ── hand-off, target side (SPEC §7) ─────────────────────────────────────────

  /**
   * Verifies an incoming agent, loads it, grants it `(M+1,0)` and persists the
   * checkpoint at that epoch — everything before the success reply. The agent
   * does not tick until `startAdmitted`. Any failure leaves no files behind.
   */
  async admitAgent(incoming: IncomingAgent): Promise<AgentStatus> {
    const agentId = validateAgentId(incoming.agentId)
    return this.exclusive(agentId, async () => {
      if (this.quarantined.has(agentId)) throw new RunnerError('AGENT_QUARANTINED', `agent ${agentId} is ${quarantineReason(this.quarantined.get(agentId)!)}`)
      // SPEC §7: an id whose admissions killed the node 3 times is refused whatever brings it (a peer or `igord import`).
      const atDoor = this.admissions.refusal({ agentId, peer: incoming.sourceNodeId })
      if (atDoor !== null) throw new RunnerError('ADMISSION_REFUSED', atDoor)
      this.refuseIfFull(agentId)
      await this.refuseIfDiskLow(agentId, incoming.wasm.byteLength + 2 * incoming.checkpoint.byteLength)
      const existing = this.hosts.get(agentId)
      // Issue 12 item 2: a newer epoch supersedes a copy stuck here (RECOVERY_REQUIRED, HANDOFF_*).
      const staleCopy = existing !== undefined && supersedesStaleCopy(incoming.sourceEpoch, existing) ? existing : undefined
      if (existing !== undefined && staleCopy === undefined) {
        const stale = !incoming.sourceEpoch.supersedes(existing.epoch)
        throw new RunnerError(stale ? 'FENCED' : 'AGENT_EXISTS', stale
          ? `stale package: this node holds ${agentId} at ${existing.epoch}, not superseded by ${incoming.sourceEpoch}`
          : `agent ${agentId} is already on this node (${existing.state} at ${existing.epoch})`)
      }
      if (incoming.wasmHash.byteLength !== 32) throw new RunnerError('HASH_MISMATCH', `WASMHash must be 32 bytes, got ${incoming.wasmHash.byteLength}`)
      const actual = sha256(incoming.wasm)
      if (hex(actual) !== hex(incoming.wasmHash)) {
        throw new RunnerError('HASH_MISMATCH', `WASMHash ${hex(incoming.wasmHash)} does not match SHA-256 of the binary ${hex(actual)}`)
      }
      const checkpoint = decodeIncomingCheckpoint(incoming.checkpoint)
      if (hex(checkpoint.wasmHash) !== hex(actual)) {
        throw new RunnerError('HASH_MISMATCH', `checkpoint was taken from binary ${hex(checkpoint.wasmHash)}, package carries ${hex(actual)}`)
      }
      if (!checkpoint.epoch.equals(incoming.sourceEpoch)) {
        throw new RunnerError('FENCED', `package epoch ${incoming.sourceEpoch} differs from its checkpoint's ${checkpoint.epoch}`)
      }
      const manifest = incoming.manifestData.byteLength === 0
        ? EMPTY_MANIFEST
        : parseManifest(incoming.manifestData, { source: `migration package for ${agentId}` })
      if (!manifest.migration.enabled) throw new RunnerError('MANIFEST_INVALID', `agent ${agentId} does not allow migration (migration_policy.enabled is false)`)
      this.refuseArrivalCapabilities(agentId, manifest) // SPEC §13: `http` only if offered to arrivals
      const cap = manifest.migration.maxPricePerSecond
      if (cap !== null && this.options.pricePerSecond > cap) {
        throw new RunnerError('MANIFEST_INVALID', `this node's price ${this.options.pricePerSecond} exceeds the agent's max_price_per_second ${cap}`)
      }
      // SPEC §12: the package's identity must match its checkpoint's key and the signature verify.
      const { lineage, created } = lineageForArrival(this.store.dir, agentId, incoming.checkpoint, checkpoint, incoming.identity, this.historyOptions(agentId))
      // SPEC §7: a copy held here yields only to the same agent (the key held here) at a higher epoch.
      const priorIdentity = await readIdentityBytes(this.store.dir, agentId)
      const tombstone = priorIdentity === null ? await this.store.readTombstone(agentId) : null
      requireHeldIdentity(agentId, priorIdentity, checkpoint, tombstone?.agentKey)
      const path = `${agentId}.wasm (from ${incoming.sourceNodeId})`
      let prior: PriorFiles | undefined
      const admit = async (): Promise<AgentHost> => {
        // The disk checks and the compile do not depend on each other.
        const [priorFiles, prepared] = await Promise.all([
          this.fences.refuseIfFenced(agentId, incoming.sourceEpoch, checkpoint.lineage?.agentPubKey ?? null).then(async () => this.refuseIfStale(agentId, incoming.sourceEpoch)),
          this.marker.around(agentId, 'loading', async () => this.prepare(incoming.wasm, path, manifest))
        ])
        prior = priorFiles
        const epoch = incoming.sourceEpoch.transferred()
        const lease = this.options.lease === null ? Lease.unbounded(epoch, this.clock) : Lease.fromMigration(incoming.sourceEpoch.majorVersion, this.options.lease, this.clock)
        const restoreHistory = await new HistoryArchive(this.store.dir, agentId).capture(checkpoint.tickNumber)
        try {
          if (created) this.log.warn({ agentId, did: lineage.identity.did }, 'package carried no identity: a new identity and a new chain start here')
          return await this.instantiate(agentId, {
            lineage,
            wasm: incoming.wasm,
            manifest,
            path,
            prepared,
            lease,
            checkpoint,
            // SPEC §7 target 3: from now on the agent pays this node's price.
            pricePerSecond: this.options.pricePerSecond,
            // Issue 8 point 6: nothing is written before the agent loaded and resumed in its sandbox.
            loadBeforeWriting: true,
            // SPEC §12: the identity file is written with the other records, before the checkpoint it signs.
            writeIdentity: true,
            // SPEC §12: the package's last tick is replayed once the agent loaded, before anything is written,
            // in the worker the agent loaded in (no second thread to start on the hand-off's critical path).
            verifyLoaded: async (sandbox) => this.verifyArrivalReplay(agentId, incoming, prepared, checkpoint, sandbox)
          })
          // SPEC §7 target 3: instantiate() made the checkpoint at the new epoch durable; the reply comes after.
        } catch (error) {
          if (staleCopy !== undefined) this.hosts.set(agentId, staleCopy)
          else this.hosts.delete(agentId)
          await this.restoreAfterFailedAdmission(agentId, priorFiles)
          await restoreIdentity(this.store.dir, agentId, priorIdentity).catch(() => undefined)
          await restoreHistory().catch(() => undefined)
          throw error
        }
      }
      // SPEC §7: a stale copy is retired only once its successor passed every check, loaded, replayed and
      // was written — in that step, with the copy held still (no recovery or tick of it in between).
      const host = staleCopy === undefined
        ? await admit()
        : await staleCopy.yieldToSuccessor(`superseded by a package at ${incoming.sourceEpoch} from ${incoming.sourceNodeId}`, admit)
      this.failed.delete(agentId)
      if (prior?.tombstone === true) {
        // An old tombstone is harmless next to a newer authority record (a restart resumes the agent and
        // drops it), so it is removed off the reply's critical path.
        this.store.deleteTombstone(agentId).catch((error: unknown) => this.log.warn({ agentId }, `old tombstone not removed: ${(error as Error).message}`))
      }
      this.log.info({ agentId, epoch: host.epoch.toString(), from: incoming.sourceNodeId }, 'agent arrived by migration')
      return host.status()
    })
  }

  /**
   * SPEC §12: in modes on-migrate/full, the package's last tick is replayed in
   * a fresh sandbox from its pre-tick state and must reproduce the state in
   * its checkpoint; otherwise the arrival is refused with the reference's text.
   * Nothing has been written yet, so a refusal leaves nothing behind.
   */
  private async verifyArrivalReplay(agentId: string, incoming: IncomingAgent, prepared: PreparedAgent, checkpoint: Checkpoint, beside: AgentSandbox): Promise<void> {
    const data = incoming.replayData
    const settings = this.options.replay ?? DEFAULT_REPLAY_SETTINGS
    if (data === undefined || data === null || !verifiesOnMigrate(settings)) {
      this.log.debug({ agentId, mode: settings.mode }, data === undefined || data === null ? 'no replay data in the package' : 'replay on arrival skipped by mode')
      return
    }
    const outcome = await replayTick({
      setup: { agentId, module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry },
      tickNumber: data.tickNumber,
      preState: data.preTickState,
      log: encodeEntries(data.entries),
      expectedState: checkpoint.state,
      beside,
      ...(this.options.sandboxLimits !== undefined ? { limits: this.options.sandboxLimits } : {})
    })
    const text = describeReplayOutcome(outcome)
    if ('skipped' in outcome) {
      // SPEC §11: the replay ran out of this node's resources, which says nothing against the agent.
      this.log.warn({ agentId, tickNumber: data.tickNumber.toString() }, text)
      return
    }
    if (!outcome.verified) throw new RunnerError('REPLAY_FAILED', text)
    this.log.info({ agentId, tickNumber: data.tickNumber.toString(), entries: data.entries.length, ms: Math.round(outcome.ms) }, text)
  }

  /**
   * `igord resume <checkpoint> --wasm <wasm>`: makes a copied checkpoint this
   * node's stored checkpoint for the agent, after validating all of it (hash,
   * signature, identity), so a bad copy never replaces a good one. The agent
   * is then started as usual (`startAgent`).
   */
  async importCheckpoint(request: ImportRequest): Promise<void> {
    const agentId = validateAgentId(request.agentId)
    await this.exclusive(agentId, async () => {
      if (this.hosts.has(agentId)) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is already running on this node`)
      await importCheckpoint(this.store, { ...request, agentId }, this.log.child({ agentId }))
    })
  }

  /** Starts ticking an admitted agent (after the success reply was sent). */
  startAdmitted(agentId: string): void {
    this.requireHost(agentId).start()
  }

  // ── internals ───────────────────────────────────────────────────────────────

  /**
   * SPEC §11: a trap, a missed deadline or a bad pointer from the agent while
   * it starts (start function, agent_init, agent_resume, the first checkpoint)
   * halts that agent with a one-line reason; the node and the others go on.
   */
  private async haltedAtStart(agentId: string, error: unknown): Promise<AgentStatus> {
    const reason = `start failed: ${oneLine(error)}`
    const authority = await this.store.readAuthority(agentId).catch(() => null)
    const state = authority?.state ?? AuthorityState.ACTIVE_OWNER
    const epoch = authority?.epoch ?? Epoch.ZERO
    this.failed.set(agentId, { state, epoch, reason })
    runtimeEvents.halt(agentId, reason)
    this.log.error({ agentId, code: (error as { code?: string }).code ?? (error as { kind?: string }).kind }, `agent halted: ${reason}`)
    return { agentId, state, epoch, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: reason }
  }

  private async quarantineStatus(agentId: string, announce: boolean): Promise<AgentStatus> {
    const reason = quarantineReason(this.quarantined.get(agentId)!)
    const authority = await this.store.readAuthority(agentId).catch(() => null)
    if (announce) this.log.error({ agentId }, `agent not started: ${reason}`)
    return { agentId, state: authority?.state ?? AuthorityState.ACTIVE_OWNER, epoch: authority?.epoch ?? Epoch.ZERO, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: reason }
  }

  /** SPEC §11 per-agent disk quota: the oldest history goes first, logged. */
  private historyOptions(agentId: string): HistoryOptions {
    return {
      quotaBytes: this.options.agentDiskQuotaBytes ?? DEFAULT_AGENT_DISK_QUOTA_BYTES,
      onPrune: (files, bytes) => this.log.info({ agentId, files, bytes }, 'history pruned to the agent disk quota (oldest first)')
    }
  }

  /** SPEC §11 free-space floor: an arrival needs room for its files and leaves the floor free. */
  private async refuseIfDiskLow(agentId: string, incomingBytes: number): Promise<void> {
    const floor = this.options.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES
    if (floor <= 0) return
    const fs = await statfs(this.store.dir).catch(() => null)
    if (fs === null) return
    const free = fs.bavail * fs.bsize
    if (free - incomingBytes < floor) {
      throw new RunnerError('NODE_FULL', `this node's disk is full: ${formatMiB(free)} free in the data dir, the floor is ${formatMiB(floor)} (--min-free-disk); ${agentId} refused`)
    }
  }

  /** `--max-agents`: every agent held here counts, halted ones too, and so do loads in progress. */
  private refuseIfFull(agentId: string): void {
    const max = this.options.maxAgents
    if (max === undefined) return
    const held = [...this.hosts.keys()].filter((id) => id !== agentId).length + [...this.busy].filter((id) => id !== agentId && !this.hosts.has(id)).length
    if (held >= max) throw new RunnerError('NODE_FULL', `this node is full: it holds ${held} agents and runs at most ${max} (--max-agents); ${agentId} refused`)
  }

  private requireHost(agentId: string): AgentHost {
    const host = this.hosts.get(agentId)
    if (host === undefined) throw new RunnerError('AGENT_NOT_FOUND', `no agent ${JSON.stringify(agentId)} is running on this node`)
    return host
  }

  private async exclusive<T>(agentId: string, section: () => Promise<T>): Promise<T> {
    if (this.closed) throw new RunnerError('AGENT_HALTED', 'the node is shutting down')
    if (this.busy.has(agentId)) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is being loaded or admitted right now`)
    this.busy.add(agentId)
    try {
      return await section()
    } finally {
      this.busy.delete(agentId)
    }
  }

  /**
   * SPEC §7 target 2: refuse a package whose epoch does not supersede what
   * this node holds for the agent (tombstone, authority record, checkpoint).
   * Returns what was there, so a failed arrival can put it back.
   */
  private async refuseIfStale(agentId: string, sourceEpoch: Epoch): Promise<PriorFiles> {
    const [tombstone, authority, storedBytes, module] = await Promise.all([
      this.store.readTombstone(agentId),
      this.store.readAuthority(agentId),
      this.store.loadBytes(agentId).catch((error: unknown) => {
        throw new RunnerError('FENCED', `this node holds an unreadable checkpoint for ${agentId}; refusing to replace it (${(error as Error).message})`)
      }),
      this.store.loadModule(agentId).catch((error: unknown) => {
        throw new RunnerError('FENCED', `this node holds an unreadable module for ${agentId}; refusing to replace it (${(error as Error).message})`)
      })
    ])
    const stored = storedBytes?.checkpoint.epoch ?? null
    const held: Array<{ what: string, epoch: Epoch }> = []
    if (tombstone !== null) held.push({ what: 'tombstone', epoch: tombstone.epoch })
    if (authority !== null) held.push({ what: `authority record (${authority.state})`, epoch: authority.epoch })
    if (stored !== null) held.push({ what: 'checkpoint', epoch: stored })
    for (const { what, epoch } of held) {
      if (!sourceEpoch.supersedes(epoch)) {
        throw new RunnerError('FENCED', `stale package: this node's ${what} for ${agentId} is at ${epoch}, not superseded by ${sourceEpoch}`)
      }
    }
    return { authority, checkpoint: storedBytes?.bytes ?? null, module, tombstone: tombstone !== null }
  }

  /** Loads an agent given by the operator or stored on disk, resuming from its checkpoint when there is one. */
  private async load(agentId: string, source: { wasm: Uint8Array, manifest: Manifest, path: string, budget: bigint, mustResume?: boolean }): Promise<AgentHost> {
    if (this.hosts.has(agentId)) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is already running on this node`)
    const authority = await this.store.readAuthority(agentId)
    const tombstone = await this.store.readTombstone(agentId)
    const stored = await this.store.loadBytes(agentId)
    const checkpoint = stored?.checkpoint ?? null
    if (authority?.state === AuthorityState.RETIRED || (checkpoint === null && tombstone !== null)) {
      const where = tombstone !== null ? ` to ${tombstone.movedTo} at ${tombstone.epoch}` : ''
      if (checkpoint !== null) await this.store.delete(agentId) // left over from a crash mid-retirement
      throw new RunnerError('AGENT_RETIRED', `agent ${agentId} was handed off${where}; a retired agent is never started again here`)
    }
    if (checkpoint === null && source.mustResume === true) {
      throw new RunnerError('AGENT_NOT_FOUND', `agent ${agentId} has no checkpoint to resume`)
    }
    // SPEC §12: the agent's identity and chain; refuses a missing or foreign key for a signed checkpoint.
    const lineage = await openLineage(this.store.dir, agentId, stored?.bytes ?? null, this.log.child({ agentId }), this.historyOptions(agentId))
    const lease = checkpoint === null ? this.bootstrapLease() : this.resumeLease(checkpoint, authority)
    const host = await this.instantiate(agentId, {
      lineage,
      wasm: source.wasm,
      manifest: source.manifest,
      path: source.path,
      lease,
      checkpoint,
      budget: source.budget,
      pricePerSecond: checkpoint?.pricePerSecond ?? this.options.pricePerSecond,
      // The peer of an interrupted hand-off stays on record: recovery asks it (issue 12 item 4).
      ...(lease.state === AuthorityState.RECOVERY_REQUIRED && authority?.peer !== undefined ? { peer: authority.peer } : {})
    })
    try {
      if (tombstone !== null) await this.store.deleteTombstone(agentId)
    } catch (error) {
      this.hosts.delete(agentId)
      await host.stop().catch(() => undefined)
      throw error
    }
    this.failed.delete(agentId)
    const status = host.status()
    this.log.info({
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
  private async instantiate(agentId: string, source: Parameters<NodeRuntime['instantiateMarked']>[1]): Promise<AgentHost> {
    return this.marker.around(agentId, 'loading', async () => this.instantiateMarked(agentId, source))
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
  }): Promise<AgentHost> {
    const prepared = source.prepared ?? await this.prepare(source.wasm, source.path, source.manifest)
    if (source.checkpoint !== null && hex(source.checkpoint.wasmHash) !== hex(prepared.wasmHash)) {
      throw new RunnerError('HASH_MISMATCH', `${source.path}: binary SHA-256 ${hex(prepared.wasmHash)} does not match the checkpoint's ${hex(source.checkpoint.wasmHash)}`)
    }
    const budget = source.checkpoint?.budget ?? source.budget ?? 0n
    const tickNumber = source.checkpoint?.tickNumber ?? 0n
    const logger = this.log.child({ agentId })
    const startSandbox = async (state: Uint8Array | null, startBudget: bigint, solo: boolean): Promise<AgentSandbox> => AgentSandbox.start({
      agentId,
      module: prepared.module,
      capabilities: [...prepared.capabilities],
      usesWasi: prepared.usesWasi,
      entry: prepared.entry,
      // SPEC §12: every live agent records its observations (for self-verification and ReplayData).
      observe: { mode: 'record' }
    }, {
      budget: startBudget,
      state,
      logger,
      agentsPerWorker: solo ? 1 : this.agentsPerWorker(source.manifest),
      ...(this.options.sandboxLimits !== undefined ? { limits: this.options.sandboxLimits } : {})
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
      await this.store.saveModule(agentId, source.wasm, source.manifest.raw)
      if (checkpointInput === null) return
      if (source.writeIdentity === true && source.lineage !== undefined) await writeIdentity(this.store.dir, agentId, source.lineage.identity)
      await this.store.writeAuthority(agentId, authorityRecord(source.lease, this.clock.nowNs(), source.peer))
      if (sealed !== null && source.lineage !== undefined) await source.lineage.persist(this.store, agentId, sealed)
      else await this.store.save(agentId, checkpointInput)
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
    const host = new AgentHost({
      agentId,
      module: { prepared, wasm: source.wasm, manifest: source.manifest },
      sandbox: markCalls(started.value, agentId, this.marker),
      lease: source.lease,
      budget,
      pricePerSecond: source.pricePerSecond,
      tickNumber,
      store: this.store,
      logger,
      timing: this.timing,
      nowNs: () => this.clock.nowNs(),
      checkpointed: source.checkpoint !== null,
      egress: { policy: this.egress, ratePerSecond: this.options.httpRatePerSecond ?? DEFAULT_HTTP_RATE },
      ...(source.peer !== undefined ? { peer: source.peer } : {}),
      replay: this.options.replay ?? DEFAULT_REPLAY_SETTINGS,
      ...(this.options.sandboxLimits !== undefined ? { sandboxLimits: this.options.sandboxLimits } : {}),
      ...(source.lineage !== undefined ? { lineage: source.lineage } : {}),
      // Issue 11: evicted from a shared worker, the agent restarts in a new sandbox (its loading is marked, SPEC §11).
      restartSandbox: async (state, restartBudget, solo) => markCalls(
        await this.marker.around(agentId, 'loading', async () => startSandbox(state, restartBudget, solo)), agentId, this.marker),
      probation
    })
    this.hosts.set(agentId, host)
    if (source.checkpoint === null) {
      // A new agent: its first checkpoint is the state agent_init produced.
      try {
        await host.persistStart()
      } catch (error) {
        this.hosts.delete(agentId)
        await host.stop().catch(() => undefined)
        // No first checkpoint: no authority record either, so a restart treats the agent as new.
        await this.store.deleteAuthority(agentId).catch(() => undefined)
        throw error
      }
    }
    return host
  }

  /** Issue 11: how many agents the worker this agent is placed in may host. */
  private agentsPerWorker(manifest: Manifest): number {
    // SPEC §13: an HTTP request blocks its thread for up to 15 s; a neighbour must not wait on it.
    if (manifest.http !== null) return 1
    return Math.max(1, this.options.agentsPerWorker ?? DEFAULT_AGENTS_PER_WORKER)
  }

  /** SPEC §13: an arrival declaring a capability this node keeps for its own agents (`http` by default) is refused. */
  private refuseArrivalCapabilities(agentId: string, manifest: Manifest): void {
    for (const capability of manifest.capabilities.keys()) {
      if (this.offered.has(capability) && !this.offeredToArrivals.has(capability)) {
        throw new RunnerError('UNDECLARED_CAPABILITY', `agent ${agentId}: capability "${capability}" is not offered to agents arriving by migration (igord --capabilities …,${capability}+arrivals)`)
      }
    }
  }

  /** Capabilities this node offers, then the module checks and compile (SPEC §5, §7 target 2). */
  private async prepare(wasm: Uint8Array, path: string, manifest: Manifest): Promise<PreparedAgent> {
    for (const capability of manifest.capabilities.keys()) {
      if (!this.offered.has(capability)) {
        throw new RunnerError('UNDECLARED_CAPABILITY', `${path}: capability "${capability}" is not offered by this node`)
      }
    }
    return prepareAgentModule(wasm, { path, manifest })
  }

  private bootstrapLease(): Lease {
    return this.options.lease === null ? Lease.unbounded(Epoch.ZERO, this.clock) : Lease.bootstrap(this.options.lease, this.clock)
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
      return Lease.restore(stored, this.options.lease === null ? 0n : checkpoint.leaseExpiry, AuthorityState.RECOVERY_REQUIRED, this.options.lease, this.clock, reason)
    }
    return this.options.lease === null ? Lease.unbounded(stored, this.clock) : Lease.fromCheckpoint(stored, this.options.lease, this.clock)
  }

  /** SPEC §7 target 4: a refused or failed arrival leaves no orphan files and restores what was there. */
  private async restoreAfterFailedAdmission(agentId: string, prior: PriorFiles): Promise<void> {
    const quietly = async (op: () => Promise<void>): Promise<void> => { await op().catch(() => undefined) }
    // A copy held here (a stale one an arrival tried to supersede) gets its own bytes back.
    await quietly(async () => prior.checkpoint === null ? this.store.delete(agentId) : this.store.save(agentId, prior.checkpoint))
    await quietly(async () => prior.module === null ? this.store.deleteModule(agentId) : this.store.saveModule(agentId, prior.module.wasm, prior.module.manifest))
    await quietly(async () => prior.authority === null ? this.store.deleteAuthority(agentId) : this.store.writeAuthority(agentId, prior.authority))
  }
}

/** Failures of the agent's own code (as opposed to the node's files, flags or the module's shape). */
function isAgentFault(error: unknown): boolean {
  return error instanceof SandboxError || (error instanceof RunnerError && error.code === 'AGENT_INIT_FAILED')
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
}

function authorityRecord(lease: Lease, nowNs: bigint, peer?: string): AuthorityRecord {
  const reason = lease.recoveryReason
  return { state: lease.state, epoch: lease.epoch, updatedAtNs: nowNs, ...(reason !== null ? { reason } : {}), ...(peer !== undefined ? { peer } : {}) }
}

/** A copy that does not own the agent, and an epoch above the one it holds. */
function supersedesStaleCopy(sourceEpoch: Epoch, host: AgentHost): boolean {
  return host.state !== AuthorityState.ACTIVE_OWNER && host.state !== AuthorityState.RETIRED && sourceEpoch.supersedes(host.epoch)
}

function decodeIncomingCheckpoint(bytes: Uint8Array): Checkpoint {
  try {
    return decodeCheckpoint(bytes)
  } catch (error) {
    if (error instanceof CheckpointError) throw new RunnerError('CHECKPOINT_CORRUPT', `package checkpoint does not decode: ${error.message}`)
    throw error
  }
}

function tombstoneStatus(tombstone: Tombstone): AgentStatus {
  return {
    agentId: tombstone.agentId,
    state: AuthorityState.RETIRED,
    epoch: tombstone.epoch,
    leaseExpiry: 0n,
    tickNumber: 0n,
    budget: 0n,
    pricePerSecond: 0n,
    // SPEC §12: an export's tombstone reads `exported to <file>` as it is.
    halted: tombstone.movedTo.startsWith('exported to ') ? `retired: ${tombstone.movedTo}` : `retired: handed off to ${tombstone.movedTo}`,
    movedTo: tombstone.movedTo
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}
