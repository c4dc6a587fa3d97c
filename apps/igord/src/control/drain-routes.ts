// SPEC §16 Drain on the control socket: `POST /drain` (runs the drain, answers its report, then the node stops) and `GET /drain` (progress).
import type { Logger, NodeRuntime } from '@igor/runner'
import type { NodeNetwork } from '../network.js'
import type { Drain } from '../drain.js'
import type { DrainStatusJson } from './protocol.js'

export interface DrainRouteDeps {
  runtime(): NodeRuntime | null
  network(): NodeNetwork | null
  readonly log: Logger
  /** Stops the node as SIGINT does (final checkpoints); called once the drain's answer is out. */
  stop(): void
}

/** How long the node waits for the drain's answer to reach the client before it stops anyway. */
const STOP_AFTER_MS = 2_000

type Reply = { status: number, body: unknown, after?: () => void }

/**
 * The node's one drain. A second `POST /drain` is refused (`NODE_DRAINING`)
 * with one line. The drain's module loads with the first request.
 */
export class DrainDesk {
  private drain: Drain | null = null

  constructor(private readonly deps: DrainRouteDeps) {}

  /** For `igord status`: the drain under way, if any. */
  status(): DrainStatusJson | undefined {
    return this.drain?.status()
  }

  async route(method: string, path: string, body: unknown): Promise<Reply | null> {
    if (path !== '/drain') return null
    if (method === 'GET') {
      if (this.drain === null) return { status: 404, body: { error: { code: 'NO_DRAIN', message: 'this node is not draining' } } }
      return { status: 200, body: { ...this.drain.status(), lines: this.drain.lines } }
    }
    if (method !== 'POST') return null
    if (this.drain !== null) {
      const s = this.drain.status()
      return { status: 409, body: { error: { code: 'NODE_DRAINING', message: `this node is draining already (since ${new Date(s.startedAt).toISOString()}, to ${s.to}: ${s.moved} of ${s.total} moved, ${s.stayed} stayed); igord status shows its progress` } } }
    }
    const runtime = this.deps.runtime()
    const network = this.deps.network()
    if (runtime === null || network === null) return { status: 503, body: { error: { code: 'NODE_STARTING', message: 'the node is still starting; drain it once it is listening' } } }
    const { Drain, DrainRequestError, parseDrainRequest } = await import('../drain.js')
    let request
    try {
      request = parseDrainRequest(body)
      if (request.to !== 'auto') (await import('@igor/migration')).parsePeerAddress(request.to)
    } catch (error) {
      const code = error instanceof DrainRequestError ? 'BAD_REQUEST' : (error as { code?: string }).code ?? 'BAD_REQUEST'
      return { status: 400, body: { error: { code, message: (error as Error).message } } }
    }
    const drain = new Drain({ runtime, network, log: this.deps.log }, request)
    this.drain = drain
    let report
    try {
      report = await drain.run()
    } catch (error) {
      // Arrivals stay refused (no way back): the node stops all the same, with final checkpoints of all it holds.
      this.deps.log.error({}, `drain failed: ${(error as Error).message}; the node stops`)
      return { status: 500, body: { error: { code: 'DRAIN_FAILED', message: `the drain failed: ${(error as Error).message}; the node stops (its agents are checkpointed and run at the next start)` } }, after: this.stopOnce() }
    }
    return { status: 200, body: { ...report, lines: drain.lines }, after: this.stopOnce() }
  }

  /** SPEC §16: the drained node stops; the answer goes out first (and the node stops anyway if it cannot). */
  private stopOnce(): () => void {
    let stopped = false
    const stop = (): void => {
      if (stopped) return
      stopped = true
      this.deps.stop()
    }
    setTimeout(stop, STOP_AFTER_MS).unref()
    return stop
  }
}
