// SPEC §14 metrics (issue 21 item 5): prom-client loads after the first tick; nothing counted before it is lost.
import { type AgentStatus, type RuntimeObserver, type SettlementMetrics, observeRuntime } from '@igor/runner'
import { type MigrationObserver, observeMigrations } from '@igor/migration/observer' // libp2p-free entry
import { MetricBuffer, type MetricSink } from './metric-buffer.js'
import type { MigrationOutcome } from './metric-labels.js'
import type { NodeMetrics } from './metrics.js'

/** What the registry reads at scrape time (see `NodeMetrics`). */
export interface MetricSources {
  status: () => Promise<readonly AgentStatus[]>
  refusedAtDoor: () => ReadonlyArray<{ kind: string }>
  price: () => bigint | null
  settlement: () => SettlementMetrics | null
}

/** Where events come from; tests pass their own. */
export interface MetricObservers {
  observeRuntime: (observer: RuntimeObserver) => () => void
  observeMigrations: (observer: MigrationObserver) => () => void
}

/** Held events (8 bytes a tick) past which the registry loads at once, whatever the node is doing. */
export const LOAD_AT_EVENTS = 1 << 20

/**
 * The node's metrics, with prom-client (~85 ms of CPU and ~90 CommonJS files
 * with its `@opentelemetry/api`) loaded off the start path. It subscribes to
 * the observers at once; until `load()` has run, every event goes to a
 * `MetricBuffer`, and `load()` replays them into the new `NodeMetrics` in the
 * same synchronous step that makes it the sink, so a scrape shows exactly what
 * it would have shown had the registry existed from the start. A scrape before
 * then waits for the load; it never answers with series missing. The daemon
 * calls `load()` once the first agents tick; `LOAD_AT_EVENTS` held events load
 * it sooner.
 */
export class LazyMetrics {
  private buffer: MetricBuffer | null = new MetricBuffer()
  private sink: MetricSink
  private loading: Promise<NodeMetrics> | null = null
  private readonly unsubscribe: Array<() => void>

  constructor(private readonly sources: MetricSources, observers: MetricObservers = { observeRuntime, observeMigrations }, private readonly loadAtEvents = LOAD_AT_EVENTS) {
    this.sink = this.buffer as MetricBuffer
    this.unsubscribe = [
      observers.observeRuntime({
        onTick: (_agentId, elapsedNs) => { this.sink.tick(Number(elapsedNs)); this.held() },
        onCheckpoint: (_agentId, bytes, ms) => { this.sink.checkpoint(bytes, ms); this.held() },
        onRenewal: () => { this.sink.renewal(); this.held() },
        onEviction: () => { this.sink.eviction(); this.held() },
        onHistoryDiskPrune: (bytes) => { this.sink.historyDiskPrune(bytes); this.held() },
        onHalt: (_agentId, reason) => { this.sink.halt(reason); this.held() }
      }),
      observers.observeMigrations({
        onSendStart: (agentId) => { this.sink.sendStart(agentId); this.held() },
        onSendProgress: (agentId, sent, total) => { this.sink.sendProgress(agentId, sent, total); this.held() },
        onReceived: (bytes) => { this.sink.received(bytes); this.held() },
        onArrival: (agentId, refusal) => { this.sink.arrival(agentId, refusal); this.held() }
      })
    ]
  }

  /** Whether the registry exists (tests, diagnostics). */
  get loaded(): boolean {
    return this.buffer === null
  }

  /** Loads prom-client and the registry once (again after a failed attempt); resolves when it is the sink. */
  load(): Promise<NodeMetrics> {
    this.loading ??= import('./metrics.js').then(({ NodeMetrics }) => {
      const { status, refusedAtDoor, price, settlement } = this.sources
      const metrics = new NodeMetrics(status, refusedAtDoor, price, settlement)
      // One synchronous step: no event can fall between the replay and the switch.
      this.buffer?.replayInto(metrics)
      this.buffer = null
      this.sink = metrics
      return metrics
    }, (error: unknown) => {
      this.loading = null
      throw error
    })
    return this.loading
  }

  /** `GET /metrics`: the Prometheus text, after the registry has loaded. */
  async scrape(): Promise<{ text: string, contentType: string }> {
    const metrics = await this.load()
    return { text: await metrics.text(), contentType: metrics.contentType }
  }

  /** SPEC §16: a placement the AutoPlacer ran ended — `kind` request_move or price — with this outcome. */
  recordAutoPlacement(kind: 'request_move' | 'price', outcome: string): void {
    this.sink.autoPlacement(kind, outcome)
    this.held()
  }

  /** A hand-off this node ran as the source ended (network.ts). */
  recordMigration(outcome: MigrationOutcome, ms: number): void {
    this.sink.migration(outcome, ms)
    this.held()
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off()
  }

  private held(): void {
    if (this.buffer !== null && this.loading === null && this.buffer.size >= this.loadAtEvents) void this.load().catch(() => undefined) // a scrape retries and reports
  }
}
