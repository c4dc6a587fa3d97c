import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { observeMigrations } from '@igor/migration/observer' // libp2p-free entry: the start path loads no libp2p
import { type AgentStatus, type SettlementMetrics, observeRuntime } from '@igor/runner'
import { workerPool } from '@igor/sandbox'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { versionLine } from './flags.js'

/**
 * The node's metrics in Prometheus text (SPEC §14, issue 11), served on the
 * control socket and, with `--metrics-listen`, over TCP. Every metric is
 * documented in the README ("Metrics"). Events come from the runner's and the
 * migration package's observers; agent states are read from `status()` at
 * scrape time.
 */
export class NodeMetrics {
  readonly registry = new Registry()
  private readonly unsubscribe: Array<() => void> = []
  /** Halts already counted, by agent id (the reason they were counted with). */
  private readonly halts: Counter<'reason'>
  private readonly migrations: Counter<'outcome'>
  private readonly migrationSeconds: Histogram<'outcome'>
  private readonly moveRequests: Counter<'outcome'>
  private readonly pricePlacements: Counter<'outcome'>

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

    const ticks = new Counter({ name: 'igor_ticks_total', help: 'Ticks completed on this node', registers })
    const tickSeconds = new Histogram({
      name: 'igor_tick_duration_seconds',
      help: 'Agent run time per tick, as metered (SPEC §5)',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers
    })
    const checkpointBytes = new Histogram({
      name: 'igor_checkpoint_bytes',
      help: 'Size of each checkpoint written (the _sum is the bytes written)',
      buckets: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
      registers
    })
    const checkpointSeconds = new Histogram({
      name: 'igor_checkpoint_duration_seconds',
      help: 'Time to take, encode and durably write a checkpoint',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers
    })
    const renewals = new Counter({ name: 'igor_lease_renewals_total', help: 'Lease renewals made durable (SPEC §3)', registers })
    const evictions = new Counter({ name: 'igor_agent_evictions_total', help: 'Agents restarted from their last checkpoint because a worker they shared was stopped for another agent', registers })
    const diskPruned = new Counter({ name: 'igor_history_disk_pruned_bytes_total', help: 'History bytes the disk guard deleted to keep free disk above --history-min-free (oldest segments across all agents first)', registers })
    this.unsubscribe.push(observeRuntime({
      onTick: (_agentId, elapsedNs) => {
        ticks.inc()
        tickSeconds.observe(Number(elapsedNs) / 1e9)
      },
      onCheckpoint: (_agentId, bytes, ms) => {
        checkpointBytes.observe(bytes)
        checkpointSeconds.observe(ms / 1000)
      },
      onRenewal: () => renewals.inc(),
      onEviction: () => evictions.inc(),
      onHistoryDiskPrune: (bytes) => diskPruned.inc(bytes),
      // Issue 22: counted where the halt happens, not when a scrape sees it (a retirement is not a halt).
      onHalt: (_agentId, reason) => { if (!reason.startsWith('retired:')) this.halts.inc({ reason: haltClass(reason) }) }
    }))

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
    const transferBytes = new Counter({ name: 'igor_transfer_bytes_total', help: 'Migration package bytes sent (out) and received (in)', labelNames: ['direction'], registers })
    const arrivals = new Counter({ name: 'igor_arrivals_total', help: 'Agents admitted by migration from another node', registers })
    const refused = new Counter({ name: 'igor_admissions_refused_total', help: 'Arriving agents refused, by error code', labelNames: ['reason'], registers })
    for (const direction of ['in', 'out']) transferBytes.inc({ direction }, 0)
    const sentSoFar = new Map<string, number>()
    this.unsubscribe.push(observeMigrations({
      onSendStart: (agentId) => { sentSoFar.set(agentId, 0) },
      onSendProgress: (agentId, sent, total) => {
        transferBytes.inc({ direction: 'out' }, sent - (sentSoFar.get(agentId) ?? 0))
        if (sent >= total) sentSoFar.delete(agentId)
        else sentSoFar.set(agentId, sent)
      },
      onReceived: (bytes) => transferBytes.inc({ direction: 'in' }, bytes),
      onArrival: (_agentId, refusal) => { if (refusal === null) arrivals.inc(); else refused.inc({ reason: refusal }) }
    }))
  }

  /** SPEC §16: a placement the AutoPlacer ran ended — `kind` request_move or price — with this outcome. */
  recordAutoPlacement(kind: 'request_move' | 'price', outcome: string): void {
    if (kind === 'request_move') this.moveRequests.inc({ outcome })
    else this.pricePlacements.inc({ outcome })
  }

  /** A hand-off this node ran as the source ended (network.ts). */
  recordMigration(outcome: MigrationOutcome, ms: number): void {
    this.migrations.inc({ outcome })
    this.migrationSeconds.observe({ outcome }, ms / 1000)
  }

  get contentType(): string {
    return this.registry.contentType
  }

  async text(): Promise<string> {
    return this.registry.metrics()
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off()
  }

}

const MIGRATION_OUTCOMES = ['completed', 'refused', 'unknown', 'failed'] as const
export type MigrationOutcome = typeof MIGRATION_OUTCOMES[number]

/** A migration error's code → the outcome label: refused by the target, outcome unknown, or failed before anything moved. */
export function migrationOutcome(error: unknown): MigrationOutcome {
  const code = (error as { code?: string }).code
  if (code === 'REJECTED') return 'refused'
  if (code === 'OUTCOME_UNKNOWN') return 'unknown'
  return 'failed'
}

/** The status `halted` text → a small, fixed set of label values (the text itself carries ids and numbers). */
export function haltClass(reason: string): string {
  if (reason.startsWith('budget exhausted')) return 'budget_exhausted'
  if (reason.startsWith('budget not valid')) return 'budget_not_valid'
  if (reason.startsWith('waiting for a node within max price') || reason.startsWith('node price above max_price_per_second')) return 'price_hold'
  if (reason.startsWith('lease expired')) return 'lease_expired'
  if (reason.startsWith('tick failed')) return 'tick_failed'
  if (reason.startsWith('start failed')) return 'start_failed'
  if (/quarantin/i.test(reason)) return 'quarantined'
  if (/hand-?off|target may hold|recover/i.test(reason)) return 'recovery_required'
  if (reason.startsWith('retired')) return 'retired'
  if (reason.startsWith('stopped')) return 'stopped'
  return 'other'
}

/** `/metrics` and `/healthz` over plain HTTP on `--metrics-listen` (off by default). */
export async function serveMetrics(metrics: NodeMetrics, at: { host: string, port: number }, healthy: () => unknown): Promise<{ server: Server, address: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://igord').pathname
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/metrics') {
      metrics.text().then(
        (text) => { res.writeHead(200, { 'content-type': metrics.contentType }).end(text) },
        (error: unknown) => { res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`) }
      )
      return
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(healthy()))
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(at.port, at.host, () => { server.off('error', reject); resolve() })
  })
  const bound = server.address()
  const address = typeof bound === 'object' && bound !== null ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : `${at.host}:${at.port}`
  return { server, address }
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
