import type { Server } from 'node:http'
import type { NodeRuntime, SettlementMetrics } from '@igor/runner'
import type { StartOptions } from './start-options.js'
import { LazyMetrics } from './lazy-metrics.js'
import type { MigrationOutcome } from './metric-labels.js'
import { serveMetrics } from './metrics-http.js'
import type { NodeNetwork } from './network.js'

type Reply = { status: number, body: unknown, contentType?: string }

/** The daemon cannot start the metrics listener (SPEC §14: fails fast, naming the address). */
export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError'
  readonly code = 'METRICS_LISTEN_FAILED'
}

/**
 * What an operator watches (SPEC §14, issue 11): `GET /metrics`, `GET /healthz`
 * and `GET /migrations/<agentId>` on the control socket, and `/metrics` and
 * `/healthz` on `--metrics-listen` when given. Kept apart from daemon.ts so
 * the daemon only wires it in.
 */
export class OperatorSurface {
  readonly metrics: LazyMetrics
  private server: Server | null = null

  constructor(private readonly node: { runtime: () => NodeRuntime | null, network: () => NodeNetwork | null, settlement?: () => SettlementMetrics | null }) {
    this.metrics = new LazyMetrics({
      status: async () => await node.runtime()?.status() ?? [],
      refusedAtDoor: () => node.runtime()?.admissions.list() ?? [],
      price: () => node.runtime()?.pricePerSecond ?? null,
      settlement: () => node.settlement?.() ?? null
    })
  }

  /** Binds `--metrics-listen` (if given); returns the bound address for the log. */
  async listen(at: StartOptions['metricsListen']): Promise<string | null> {
    if (at === null) return null
    try {
      const { server, address } = await serveMetrics(this.metrics, at, () => this.health())
      this.server = server
      return address
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'no such local address' : (error as Error).message
      throw new MetricsListenError(`cannot serve metrics on ${at.host}:${at.port}: ${why}`)
    }
  }

  /** Told the outcome and duration of each hand-off run as the source. */
  readonly onMigrated = (outcome: MigrationOutcome, ms: number): void => { this.metrics.recordMigration(outcome, ms) }

  /** The control socket's operator routes; null: not one of them. */
  async route(method: string, path: string): Promise<Reply | null> {
    if (method !== 'GET') return null
    if (path === '/metrics') {
      const { text, contentType } = await this.metrics.scrape() // waits for prom-client if it has not loaded yet
      return { status: 200, body: text, contentType }
    }
    if (path === '/healthz') return { status: 200, body: this.health() }
    const match = /^\/migrations\/([^/]+)$/.exec(path)
    if (match !== null) {
      const agentId = decodeURIComponent(match[1] as string)
      const progress = this.node.network()?.progress(agentId) ?? null
      return progress === null
        ? { status: 404, body: { error: { code: 'NO_MIGRATION', message: `no hand-off of ${agentId} is under way` } } }
        : { status: 200, body: progress }
    }
    return null
  }

  async close(): Promise<void> {
    this.metrics.close()
    const server = this.server
    this.server = null
    if (server !== null) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
  }

  /** Cheap on purpose (no disk reads): the process answers, and whether its network is up. */
  private health(): { status: 'ok', network: boolean, peerId: string | null } {
    const network = this.node.network()
    return { status: 'ok', network: network !== null, peerId: network?.peerId ?? null }
  }
}
