// SPEC §14 `--metrics-listen`: /metrics and /healthz over TCP, without loading prom-client until a scrape asks.
import { createServer } from 'node:http'
import type { Server } from 'node:http'

/** What the listener serves /metrics from: the node's `LazyMetrics` (a scrape waits for the registry to load). */
export interface MetricsText {
  scrape(): Promise<{ text: string, contentType: string }>
}

/** `/metrics` and `/healthz` over plain HTTP on `--metrics-listen` (off by default). */
export async function serveMetrics(metrics: MetricsText, at: { host: string, port: number }, healthy: () => unknown): Promise<{ server: Server, address: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://igord').pathname
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/metrics') {
      metrics.scrape().then(
        ({ text, contentType }) => { res.writeHead(200, { 'content-type': contentType }).end(text) },
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
