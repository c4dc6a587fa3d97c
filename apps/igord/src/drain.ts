// SPEC §16 Drain: the node empties itself — it refuses arrivals, then places every agent it owns, a few at a time.
import type { Logger, NodeRuntime } from '@igor/runner'
import type { NodeNetwork } from './network.js'
import type { DrainMovedJson, DrainReportJson, DrainStatusJson, DrainStayedJson } from './control/protocol.js'

/** What `igord drain` asks of the node (`POST /drain`). */
export interface DrainRequest {
  /** `auto`: placement among the known peers (SPEC §16); else one multiaddr every agent is handed to. */
  readonly to: string
  /** Agents being placed at once. */
  readonly concurrency: number
  /** No placement attempt starts after this long (ms). */
  readonly timeoutMs: number
}

/** Progress lines kept for `GET /drain` (a 50-agent drain writes a few hundred). */
const MAX_LINES = 100_000
export const DEFAULT_DRAIN_CONCURRENCY = 4
export const MAX_DRAIN_CONCURRENCY = 64

export interface DrainDeps {
  readonly runtime: NodeRuntime
  readonly network: NodeNetwork
  readonly log: Logger
}

/**
 * One drain of this node. `run()` turns arrivals away (`NODE_DRAINING`),
 * takes every agent the node holds, and settles each: an ACTIVE_OWNER agent
 * that is not halted is placed (`--to auto`: `network.place`, which falls
 * back across peers; an address: one plain hand-off), at most `concurrency`
 * at a time; any other agent stays, with its state as the reason. A failed
 * placement leaves the agent here ticking (or RECOVERY_REQUIRED when the
 * outcome was ambiguous — assisted recovery settles it); it is listed with
 * the reason. Never throws for one agent's failure.
 */
export class Drain {
  readonly lines: string[] = []
  readonly startedAt = Date.now()
  private readonly moved: DrainMovedJson[] = []
  private readonly stayed: DrainStayedJson[] = []
  private total = 0
  private finished: DrainReportJson | null = null

  constructor(private readonly deps: DrainDeps, readonly request: DrainRequest) {}

  get report(): DrainReportJson | null {
    return this.finished
  }

  status(): DrainStatusJson {
    const settled = this.moved.length + this.stayed.length
    return { to: this.request.to, startedAt: this.startedAt, total: this.total, moved: this.moved.length, stayed: this.stayed.length, pending: Math.max(0, this.total - settled) }
  }

  async run(): Promise<DrainReportJson> {
    const { runtime, log } = this.deps
    const started = performance.now()
    const deadline = started + this.request.timeoutMs
    runtime.startDraining()
    const held = (await runtime.status()).filter((a) => a.state !== 'RETIRED')
    this.total = held.length
    const queue: string[] = []
    for (const agent of held) {
      if (agent.state !== 'ACTIVE_OWNER') this.stay(agent.agentId, stateReason(agent.state, agent.halted))
      else if (agent.halted !== null) this.stay(agent.agentId, `halted (${agent.halted}); it cannot be migrated`)
      else queue.push(agent.agentId)
    }
    this.line(`draining: ${this.total} agent(s) here, ${queue.length} to move (to ${this.request.to}, ${this.request.concurrency} at a time); arrivals are refused`)
    log.info({ to: this.request.to, agents: this.total, toMove: queue.length, concurrency: this.request.concurrency }, 'drain started')
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        const agentId = queue[next++] as string
        if (performance.now() >= deadline) {
          this.stay(agentId, 'not tried: the time allowed (--timeout) passed first')
          continue
        }
        await this.settle(agentId, deadline)
      }
    }
    const width = Math.max(1, Math.min(this.request.concurrency, queue.length))
    await Promise.all(Array.from({ length: width }, worker))
    const ms = Math.round(performance.now() - started)
    this.finished = { outcome: this.stayed.length === 0 ? 'drained' : 'stayed', to: this.request.to, total: this.total, moved: [...this.moved], stayed: [...this.stayed], ms }
    const summary = this.stayed.length === 0
      ? `drained: ${this.moved.length} agent(s) moved in ${(ms / 1000).toFixed(1)} s; the node stops`
      : `drain finished: ${this.moved.length} of ${this.total} agent(s) moved, ${this.stayed.length} stayed, in ${(ms / 1000).toFixed(1)} s; the node stops`
    this.line(summary)
    log.info({ moved: this.moved.length, stayed: this.stayed.length, ms }, summary)
    return this.finished
  }

  /** Places one agent; records where it went or why it stayed. */
  private async settle(agentId: string, deadline: number): Promise<void> {
    const { network } = this.deps
    try {
      if (this.request.to === 'auto') {
        const report = await network.place(agentId, (line) => this.line(line), { deadline })
        if (report.outcome === 'placed' && report.placed !== null) return this.move(agentId, report.placed.target)
        const left = await this.leftMeanwhile(agentId) // e.g. an operator's `igord migrate` of it ran beside the drain
        if (left !== null) return this.move(agentId, left)
        const timedOut = report.tried.some((t) => t.attempts.some((a) => a.code === 'DEADLINE_PASSED'))
        const why = report.summary.replace(new RegExp(`^not placed: ${escape(agentId)} stays here; `), '')
        return this.stay(agentId, this.withState(agentId, timedOut ? `the time allowed (--timeout) passed while placing it (${why})` : why))
      }
      const result = await network.migrate(agentId, this.request.to)
      return this.move(agentId, result.target)
    } catch (error) {
      const left = await this.leftMeanwhile(agentId)
      if (left !== null) return this.move(agentId, left)
      return this.stay(agentId, this.withState(agentId, oneLine(error)))
    }
  }

  /** Where the agent went when it is not here any more (moved by another command meanwhile: what a drain wants), else null. */
  private async leftMeanwhile(agentId: string): Promise<string | null> {
    const row = (await this.deps.runtime.status()).find((a) => a.agentId === agentId)
    return row?.state === 'RETIRED' ? row.movedTo ?? 'elsewhere' : null
  }

  /** An ambiguous hand-off leaves the agent RECOVERY_REQUIRED: the reason says so first. */
  private withState(agentId: string, reason: string): string {
    const host = this.deps.runtime.host(agentId)
    const state = host === undefined ? null : host.status().state
    if (state === 'RECOVERY_REQUIRED' && !reason.startsWith('stopped: ')) return `RECOVERY_REQUIRED (assisted recovery settles it): ${reason}`
    return reason
  }

  private move(agentId: string, to: string): void {
    this.moved.push({ agentId, to })
    this.line(`moved ${agentId} to ${to} (${this.moved.length + this.stayed.length} of ${this.total} settled)`)
  }

  private stay(agentId: string, reason: string): void {
    this.stayed.push({ agentId, reason })
    this.line(`${agentId} stays: ${reason} (${this.moved.length + this.stayed.length} of ${this.total} settled)`)
  }

  private line(text: string): void {
    if (this.lines.length < MAX_LINES) this.lines.push(text)
  }
}

function stateReason(state: string, halted: string | null): string {
  if (state === 'RECOVERY_REQUIRED') return `RECOVERY_REQUIRED${halted !== null ? ` (${halted})` : ''}: its authority is ambiguous; igord recover settles it`
  return `${state}${halted !== null ? ` (${halted})` : ''}: only an ACTIVE_OWNER agent can be moved`
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] as string
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Thrown for a `POST /drain` body that is not a drain request; the message is one line. */
export class DrainRequestError extends Error {
  override readonly name = 'DrainRequestError'
}

/** Validates `POST /drain`'s body: `{"to": "auto"|"<multiaddr>", "concurrency": n, "timeoutMs": n}`. */
export function parseDrainRequest(body: unknown): DrainRequest {
  const { to = 'auto', concurrency = DEFAULT_DRAIN_CONCURRENCY, timeoutMs } = (body ?? {}) as { to?: unknown, concurrency?: unknown, timeoutMs?: unknown }
  if (typeof to !== 'string' || to === '') throw new DrainRequestError('drain needs "to": "auto" or a multiaddr')
  if (typeof concurrency !== 'number' || !Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_DRAIN_CONCURRENCY) {
    throw new DrainRequestError(`drain "concurrency" must be a whole number from 1 to ${MAX_DRAIN_CONCURRENCY}`)
  }
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new DrainRequestError('drain needs "timeoutMs", a whole number of milliseconds ≥ 1')
  return { to, concurrency, timeoutMs }
}
