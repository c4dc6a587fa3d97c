// SPEC §5 restart, §7 durable record, §11: what every part of a node runtime shares — the store, the
// options, the call marker, the map of agents this node holds (live, failed to load, quarantined), the
// per-agent admission lock and the `--max-agents` count. One object, handed to the loader, admission,
// lifecycle and authority parts, so each reads the same maps and none imports another to reach them.
import { createHash } from 'node:crypto'
import { type Clock, systemClock } from '@igor/lease'
import type { AgentHost, AgentTiming } from '../agent-host.js'
import { DEFAULT_TIMING } from '../agent-host.js'
import { FenceStore } from '../authority/fences.js'
import { RunnerError } from '../errors.js'
import { CAPABILITIES, type CallMarker, type CapabilityName, EgressPolicy, type Logger, silentLogger } from '@igor/sandbox'
import type { CheckpointStore, QuarantineRecord } from '../store/index.js'
import { AdmissionGuard } from '../containment/admission-guard.js'
import { DEFAULT_AGENT_DISK_QUOTA_BYTES } from '../lineage/history.js'
import type { HistoryOptions } from '../lineage/history.js'
import type { HistoryDiskGuard } from '../lineage/history-disk-guard.js'
import type { FailedLoad, NodeRuntimeOptions } from './types.js'
import { NodePrice } from './price.js'

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
export const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest()

/** The state one node runtime's parts share (see the file comment). */
export class NodeContext {
  readonly store: CheckpointStore
  /** Fences promised to peers by `/igor/authority/1.0.0` (issue 12 item 4). */
  readonly fences: FenceStore
  readonly hosts = new Map<string, AgentHost>()
  /** Agents found on disk that could not be loaded, with the reason. */
  readonly failed = new Map<string, FailedLoad>()
  /** Serializes admission/start per agent id, so two arrivals of one agent cannot race. */
  readonly busy = new Set<string>()
  readonly log: Logger
  readonly clock: Clock
  readonly timing: AgentTiming
  readonly offered: ReadonlySet<CapabilityName>
  /** SPEC §13: what an agent arriving by migration may declare. */
  readonly offeredToArrivals: ReadonlySet<CapabilityName>
  /** SPEC §13 the node's egress policy, shared by every agent here. */
  readonly egress: EgressPolicy
  closed = false
  /** SPEC §11: agents this node will not start until an operator releases them. */
  readonly quarantined = new Map<string, QuarantineRecord>()
  /** SPEC §7 "What a peer can and cannot do", §11: admissions marked while in progress; peers and ids that killed the node refused at the door. */
  admissions: AdmissionGuard = AdmissionGuard.disabled()
  /** SPEC §15: the node's current price, read by every agent host at each charge. */
  readonly price: NodePrice
  /** SPEC §16 drain: set once `igord drain` began; every arrival is refused (`NODE_DRAINING`) from then on. */
  draining = false
  /** SPEC §12 (ours): the node-wide history disk guard, told when a segment rolls (set by `NodeRuntime.open`). */
  diskGuard: HistoryDiskGuard | null = null

  constructor(store: CheckpointStore, readonly options: NodeRuntimeOptions, readonly marker: CallMarker, readonly suspectIds: ReadonlySet<string> = new Set(), price?: NodePrice) {
    this.store = store
    this.price = price ?? new NodePrice(options.pricePerSecond, options.pricePerSecondExplicit === true ? 'flag' : 'default')
    this.fences = new FenceStore(options.dataDir)
    this.log = options.logger ?? silentLogger
    this.clock = options.clock ?? systemClock
    this.timing = { ...DEFAULT_TIMING, ...options.timing }
    this.offered = new Set(options.capabilities ?? CAPABILITIES)
    this.offeredToArrivals = new Set((options.arrivalCapabilities ?? [...this.offered].filter((c) => c !== 'http')).filter((c) => this.offered.has(c)))
    this.egress = options.egress ?? EgressPolicy.parse()
  }

  /** SPEC §11 per-agent disk quota: the oldest history goes first, logged. */
  historyOptions(agentId: string): HistoryOptions {
    return {
      quotaBytes: this.options.agentDiskQuotaBytes ?? DEFAULT_AGENT_DISK_QUOTA_BYTES,
      keep: this.options.historyKeep,
      onPrune: (files, bytes, reason) => this.log.info({ agentId, files, bytes }, reason === 'quota' ? 'history pruned to the agent disk quota (oldest first)' : 'history pruned to --history-keep (oldest segments first)'),
      onRoll: () => this.diskGuard?.poke()
    }
  }

  /** SPEC §16 drain: a draining node refuses every arrival, whatever brings it (a peer or `igord import`). */
  refuseIfDraining(agentId: string): void {
    if (this.draining) throw new RunnerError('NODE_DRAINING', `this node is draining (igord drain): it takes no arrivals; ${agentId} refused`)
  }

  /** `--max-agents`: every agent held here counts, halted ones too, and so do loads in progress. */
  refuseIfFull(agentId: string): void {
    const max = this.options.maxAgents
    if (max === undefined) return
    const held = this.heldCount(agentId)
    if (held >= max) throw new RunnerError('NODE_FULL', `this node is full: it holds ${held} agents and runs at most ${max} (--max-agents); ${agentId} refused`)
  }

  /** Agents held (halted ones too) and loads or admissions in progress: what `--max-agents` counts. */
  heldCount(except?: string): number {
    return [...this.hosts.keys()].filter((id) => id !== except).length + [...this.busy].filter((id) => id !== except && !this.hosts.has(id)).length
  }

  requireHost(agentId: string): AgentHost {
    const host = this.hosts.get(agentId)
    if (host === undefined) throw new RunnerError('AGENT_NOT_FOUND', `no agent ${JSON.stringify(agentId)} is running on this node`)
    return host
  }

  async exclusive<T>(agentId: string, section: () => Promise<T>): Promise<T> {
    if (this.closed) throw new RunnerError('AGENT_HALTED', 'the node is shutting down')
    if (this.busy.has(agentId)) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is being loaded or admitted right now`)
    this.busy.add(agentId)
    try {
      return await section()
    } finally {
      this.busy.delete(agentId)
    }
  }
}
