import { type AgentStatus, type SettlementMetrics } from '@igor/runner'
import { workerPool } from '@igor/sandbox'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { versionLine } from './flags.js'
import type { MetricSink } from './metric-buffer.js'
import { MIGRATION_OUTCOMES, type MigrationOutcome, haltClass } from './metric-labels.js'

/**
 * The node's metrics in Prometheus text (SPEC §14, issue 11), served on the
 * control socket and, with `--metrics-listen`, over TCP. Every metric is
 * documented in the README ("Metrics"). Loaded after the first tick
 * (issue 21 item 5): `LazyMetrics` subscribes to the runner's and the
 * migration package's observers from the start and hands the events here,
 * first those it held, then each as it comes. Agent states are read from
 * `status()` at scrape time.
 */
export class NodeMetrics implements MetricSink {
  readonly registry = new Registry()
  private readonly halts: Counter<'reason'>
  private readonly ticks: Counter
  private readonly tickSeconds: Histogram
  private readonly checkpointBytes: Histogram
  private readonly checkpointSeconds: Histogram
  private readonly renewals: Counter
  private readonly evictions: Counter
  private readonly diskPruned: Counter
  private readonly migrations: Counter<'outcome'>
  private readonly migrationSeconds: Histogram<'outcome'>
  private readonly moveRequests: Counter<'outcome'>
  private readonly pricePlacements: Counter<'outcome'>
  private readonly transferBytes: Counter<'direction'>
  private readonly arrivals: Counter
  private readonly refused: Counter<'reason'>
  private readonly sentSoFar = new Map<string, number>()

  /** `refusedAtDoor`: peers and agent ids refused at the door (SPEC §7, §11). */
  constructor(status: () => Promise<readonly AgentStatus[]>, refusedAtDoor: () => ReadonlyArray<{ kind: string }> = () => [], price: () => bigint | null = () => null,
    settlement: () => SettlementMetrics | null = () => null) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    const version = /^igord (\S+)/.exec(versionLine())?.[1] ?? 'unknown'
    new Gauge({ name: 'igor_build_info', help: 'Always 1; the labels say which igord and Node.js run', labelNames: ['version', 'node'], registers })
      .set({ version, node: process.version }, 1)

    // One status() read per scrape feeds both gauges and the halt counter.
    let scrape: Promise<void> | null = null
    const refresh = async (): Promise<void> => {
      scrape ??= (async () => {
        const rows = await status()
        agents.reset()
        halted.reset()
        for (const row of rows) {
          agents.inc({ state: row.state })
          if (row.halted !== null && row.state !== 'RETIRED') halted.inc({ reason: haltClass(row.halted) })
        }
      })().finally(() => { scrape = null })
      await scrape
    }
    const agents = new Gauge({ name: 'igor_agents', help: 'Agents this node holds, by authority state (RETIRED: tombstones)', labelNames: ['state'], registers, collect: refresh })
    const halted = new Gauge({ name: 'igor_agents_halted', help: 'Agents that may not tick now, by reason class', labelNames: ['reason'], registers, collect: refresh })
    new Gauge({
      name: 'igor_worker_threads',
      help: 'Worker threads hosting agents (several agents share one, see --agents-per-worker)',
      registers,
      collect() { this.set(workerPool.hosts) }
    })
    new Gauge({
      name: 'igor_admissions_refused_at_door',
      help: 'Peers and agent ids refused at the door: admitting their packages killed the node on 3 consecutive starts (SPEC §7, §11)',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset()
        this.set({ kind: 'peer' }, 0)
        this.set({ kind: 'agent' }, 0)
        for (const { kind } of refusedAtDoor()) this.inc({ kind })
      }
    })
    new Gauge({
      name: 'igor_price_per_second',
      help: 'This node\'s price in microcents per second, what every agent here pays from its next tick (SPEC §15; igord price set)',
      registers,
      collect() {
        const value = price()
        if (value === null) this.reset()
        else this.set(Number(value)) // a float: exact up to 2^53 microcents per second
      }
    })
    settlementMetrics(registers, settlement)
    this.halts = new Counter({ name: 'igor_halts_total', help: 'Agents halted, by reason class (counted when the halt happens)', labelNames: ['reason'], registers })

    this.ticks = new Counter({ name: 'igor_ticks_total', help: 'Ticks completed on this node', registers })
    this.tickSeconds = new Histogram({
      name: 'igor_tick_duration_seconds',
      help: 'Agent run time per tick, as metered (SPEC §5)',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers
    })
    this.checkpointBytes = new Histogram({
      name: 'igor_checkpoint_bytes',
      help: 'Size of each checkpoint written (the _sum is the bytes written)',
      buckets: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
      registers
    })
    this.checkpointSeconds = new Histogram({
      name: 'igor_checkpoint_duration_seconds',
      help: 'Time to take, encode and durably write a checkpoint',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers
    })
    this.renewals = new Counter({ name: 'igor_lease_renewals_total', help: 'Lease renewals made durable (SPEC §3)', registers })
    this.evictions = new Counter({ name: 'igor_agent_evictions_total', help: 'Agents restarted from their last checkpoint because a worker they shared was stopped for another agent', registers })
    this.diskPruned = new Counter({ name: 'igor_history_disk_pruned_bytes_total', help: 'History bytes the disk guard deleted to keep free disk above --history-min-free (oldest segments across all agents first)', registers })

    this.migrations = new Counter({ name: 'igor_migrations_total', help: 'Hand-offs this node started as the source, by outcome', labelNames: ['outcome'], registers })
    this.migrationSeconds = new Histogram({
      name: 'igor_migration_duration_seconds',
      help: 'Hand-off time as the source, from the request to the outcome, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers
    })
    for (const outcome of MIGRATION_OUTCOMES) this.migrations.inc({ outcome }, 0)
    // SPEC §16 (ours): what became of the moves agents asked for, and of the placements for price.
    this.moveRequests = new Counter({ name: 'igor_move_requests_total', help: 'Moves agents asked for (request_move), by outcome: placed, no-candidates, exhausted, ambiguous, local, busy, failed', labelNames: ['outcome'], registers })
    this.pricePlacements = new Counter({ name: 'igor_price_placements_total', help: 'Placements of agents whose max_price_per_second is below this node\'s price, by outcome', labelNames: ['outcome'], registers })
    this.transferBytes = new Counter({ name: 'igor_transfer_bytes_total', help: 'Migration package bytes sent (out) and received (in)', labelNames: ['direction'], registers })
    this.arrivals = new Counter({ name: 'igor_arrivals_total', help: 'Agents admitted by migration from another node', registers })
    this.refused = new Counter({ name: 'igor_admissions_refused_total', help: 'Arriving agents refused, by error code', labelNames: ['reason'], registers })
    for (const direction of ['in', 'out']) this.transferBytes.inc({ direction }, 0)
  }

  tick(elapsedNs: number): void {
    this.ticks.inc()
    this.tickSeconds.observe(elapsedNs / 1e9)
  }

  checkpoint(bytes: number, ms: number): void {
    this.checkpointBytes.observe(bytes)
    this.checkpointSeconds.observe(ms / 1000)
  }

  renewal(): void { this.renewals.inc() }
  eviction(): void { this.evictions.inc() }
  historyDiskPrune(bytes: number): void { this.diskPruned.inc(bytes) }

  /** Issue 22: counted where the halt happens, not when a scrape sees it (a retirement is not a halt). */
  halt(reason: string): void {
    if (!reason.startsWith('retired:')) this.halts.inc({ reason: haltClass(reason) })
  }

  sendStart(agentId: string): void { this.sentSoFar.set(agentId, 0) }
  sendProgress(agentId: string, sent: number, total: number): void {
    this.transferBytes.inc({ direction: 'out' }, sent - (this.sentSoFar.get(agentId) ?? 0))
    if (sent >= total) this.sentSoFar.delete(agentId)
    else this.sentSoFar.set(agentId, sent)
  }

  received(bytes: number): void { this.transferBytes.inc({ direction: 'in' }, bytes) }
  arrival(_agentId: string, refusal: string | null): void {
    if (refusal === null) this.arrivals.inc()
    else this.refused.inc({ reason: refusal })
  }

  /** SPEC §16: a placement the AutoPlacer ran ended — `kind` request_move or price — with this outcome. */
  autoPlacement(kind: 'request_move' | 'price', outcome: string): void {
    if (kind === 'request_move') this.moveRequests.inc({ outcome })
    else this.pricePlacements.inc({ outcome })
  }

  /** A hand-off this node ran as the source ended (network.ts). */
  migration(outcome: MigrationOutcome, ms: number): void {
    this.migrations.inc({ outcome })
    this.migrationSeconds.observe({ outcome }, ms / 1000)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  async text(): Promise<string> {
    return this.registry.metrics()
  }
}

/** SPEC §15 `--settlement-url`: the adapter's outbox and failures, read at scrape time (absent without a settlement URL). */
function settlementMetrics(registers: Registry[], read: () => SettlementMetrics | null): void {
  const gauge = (name: string, help: string, value: (m: SettlementMetrics) => number): void => {
    new Gauge({ name, help, registers, collect() { const m = read(); if (m === null) this.reset(); else this.set(value(m)) } })
  }
  const counter = (name: string, help: string, value: (m: SettlementMetrics) => number): void => {
    new Counter({ name, help, registers, collect() { const m = read(); this.reset(); if (m !== null) this.inc(value(m)) } })
  }
  gauge('igor_settlement_lag_seconds', 'Age of the oldest receipt waiting in the settlement outbox (0 when none waits; SPEC §15 --settlement-url)', (m) => m.lagMs / 1000)
  gauge('igor_settlement_outbox_receipts', 'Sealed receipts waiting in the settlement outbox', (m) => m.outboxSize)
  counter('igor_settlement_failures_total', 'Failed settlement POSTs and budget checks since the node started', (m) => m.failuresTotal)
  counter('igor_settlement_delivered_total', 'Receipts the settlement server accepted (2xx) since the node started', (m) => m.deliveredTotal)
}
