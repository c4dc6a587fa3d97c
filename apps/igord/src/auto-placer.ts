// SPEC §16 "Moving for price" and "The agent decides" (ours): the node places agents by itself.
// - Moving for price: when the node's price is above an agent's `max_price_per_second` (> 0) — after
//   `igord price set` and at start — the agent is held at once (no ticks, no charge, still
//   ACTIVE_OWNER with its lease renewed; status: `waiting for a node within max price`) and placed
//   among the peers within its max, as `--to auto` places it. Nobody accepting, it stays held and is
//   placed again after each price scan; a price back within its max lets it tick again.
// - The agent decides: after the tick that called `request_move(max)` (answered 0) the agent is
//   placed among peers cheaper than both this node and `max`; nobody accepting, it stays and ticks on,
//   and a log line and `igor_move_requests_total{outcome}` say why. Its next request is noted again.
import { type Logger, type NodeRuntime, observeRuntime } from '@igor/runner'
import type { PlacementNeeds } from '@igor/migration'
import type { PlacementJson } from './control/protocol.js'

/** The status reason of an agent held for price (SPEC §16). */
export const PRICE_HOLD_REASON = 'waiting for a node within max price'
/** Held, and no placement is tried: the manifest forbids migration (it would pay above its max otherwise). */
export const PRICE_HOLD_NO_MIGRATION = 'node price above max_price_per_second; its manifest disables migration'

/** What the AutoPlacer needs of the node. */
export interface AutoPlacerDeps {
  readonly runtime: NodeRuntime
  /** SPEC §16 placement (`--to auto`) with these needs. */
  place(agentId: string, needs: PlacementNeeds): Promise<PlacementJson>
  /** Runs `listener` after every price scan; returns the function that stops it. */
  onPriceScan(listener: () => void): () => void
  readonly log: Logger
  /** Told the outcome of each request_move placement (`placed`, `no-candidates`, `exhausted`, `ambiguous`, `local`, `failed`). */
  onMoveRequest?(outcome: string): void
  /** Told the outcome of each placement for price. */
  onPricePlacement?(outcome: string): void
}

/** One per node (see the file comment). */
export class AutoPlacer {
  /** Agents being placed by this placer now (one placement per agent at a time). */
  private readonly busy = new Set<string>()
  private readonly stops: Array<() => void> = []
  private closed = false

  constructor(private readonly deps: AutoPlacerDeps) {}

  /** Listens to request_move and to price scans; reviews every agent against the price now (SPEC §16 "at start"). */
  start(): void {
    this.stops.push(observeRuntime({ onMoveRequest: (agentId, max) => { setImmediate(() => { void this.moveRequested(agentId, max) }) } }))
    this.stops.push(this.deps.onPriceScan(() => { this.priceChanged() }))
    this.priceChanged()
  }

  stop(): void {
    this.closed = true
    for (const stop of this.stops.splice(0)) stop()
  }

  /**
   * The node's price changed (or a scan brought news): every agent over its
   * max is held now and placed (unless it is being placed already); every
   * held agent back within its max ticks again. Returns at once.
   */
  priceChanged(): void {
    if (this.closed) return
    for (const agentId of this.deps.runtime.agentIds()) this.review(agentId)
  }

  /** The agent's price verdict now; holds or releases it, and starts its placement when it must move. */
  private review(agentId: string): void {
    const host = this.deps.runtime.host(agentId)
    if (host === undefined) return
    const policy = host.module.manifest.migration
    const max = policy.maxPricePerSecond
    const price = this.deps.runtime.pricePerSecond
    if (max === null || max <= 0n || price <= max) {
      if (host.priceHold !== null) {
        host.holdForPrice(null)
        this.deps.log.info({ agentId, pricePerSecond: price.toString(), maxPricePerSecond: max?.toString() ?? null }, `${agentId}: node price ${price} is within its max_price_per_second again; it ticks here`)
      }
      return
    }
    if (!host.ticking) return // halted, in a hand-off, recovering (a held agent still counts as ticking): not ours to place
    if (!policy.enabled) {
      host.holdForPrice(PRICE_HOLD_NO_MIGRATION)
      return
    }
    host.holdForPrice(PRICE_HOLD_REASON)
    if (this.busy.has(agentId)) return
    void this.placeForPrice(agentId, max)
  }

  private async placeForPrice(agentId: string, max: bigint): Promise<void> {
    this.busy.add(agentId)
    let outcome = 'failed'
    try {
      const host = this.deps.runtime.host(agentId)
      if (host === undefined) return
      const needs: PlacementNeeds = { maxPricePerSecond: max, capabilities: [...host.module.manifest.capabilities.keys()] }
      const report = await this.deps.place(agentId, needs)
      outcome = report.outcome
      if (report.outcome === 'placed') {
        this.deps.log.info({ agentId, outcome }, `${agentId} moved for price: ${report.summary}`)
      } else {
        this.deps.log.warn({ agentId, outcome }, `${agentId} stays paused (${PRICE_HOLD_REASON}); placement is tried again after the next price scan: ${report.summary}`)
      }
    } catch (error) {
      this.deps.log.warn({ agentId, code: (error as { code?: string }).code }, `${agentId}: placement for price failed: ${(error as Error).message}; tried again after the next price scan`)
    } finally {
      this.busy.delete(agentId)
      this.deps.onPricePlacement?.(outcome)
    }
    // The price may have dropped while it was being placed.
    if (outcome !== 'placed' && !this.closed) {
      const host = this.deps.runtime.host(agentId)
      const max2 = host?.module.manifest.migration.maxPricePerSecond ?? null
      if (host !== undefined && host.priceHold !== null && max2 !== null && this.deps.runtime.pricePerSecond <= max2) host.holdForPrice(null)
    }
  }

  /** After the tick that called `request_move(max)` (SPEC §16); `start()` wires it to the runner's report. Resolves when the placement ended. */
  async moveRequested(agentId: string, max: bigint): Promise<void> {
    const host = this.deps.runtime.host(agentId)
    if (host === undefined || this.closed) return
    const price = this.deps.runtime.pricePerSecond
    let outcome = 'failed'
    try {
      if (this.busy.has(agentId)) {
        outcome = 'busy'
        this.deps.log.info({ agentId }, `${agentId} asked to move (request_move) while it is being placed already; nothing more to do`)
        return
      }
      if (price === 0n) {
        outcome = 'no-candidates'
        this.deps.log.info({ agentId, outcome }, `${agentId} asked to move (request_move, max ${max}); it stays: no node is cheaper than this one (price 0)`)
        return
      }
      const manifestMax = host.module.manifest.migration.maxPricePerSecond
      const caps = [max, manifestMax ?? 0n].filter((value) => value > 0n)
      const cap = caps.length === 0 ? null : caps.reduce((a, b) => (a < b ? a : b))
      const needs: PlacementNeeds = { maxPricePerSecond: cap, capabilities: [...host.module.manifest.capabilities.keys()], priceBelow: price }
      this.busy.add(agentId)
      try {
        const report = await this.deps.place(agentId, needs)
        outcome = report.outcome
        if (report.outcome === 'placed') this.deps.log.info({ agentId, outcome }, `${agentId} moved as it asked (request_move, max ${max}): ${report.summary}`)
        else this.deps.log.warn({ agentId, outcome }, `${agentId} asked to move (request_move, max ${max}) and stays here, ticking: ${report.summary}`)
      } finally {
        this.busy.delete(agentId)
      }
    } catch (error) {
      this.deps.log.warn({ agentId, code: (error as { code?: string }).code }, `${agentId} asked to move (request_move, max ${max}) and stays here, ticking: ${(error as Error).message}`)
    } finally {
      this.deps.onMoveRequest?.(outcome)
      // Stayed (or gone: then nothing is left to settle): its next request_move is noted again.
      if (outcome !== 'placed') this.deps.runtime.host(agentId)?.moveSettled()
    }
  }
}

/** The daemon's one line: an AutoPlacer over the node's runtime and network, counted in its metrics, started. */
export function startAutoPlacer(runtime: NodeRuntime, network: { place: (agentId: string, onLine: undefined, options: { needs: PlacementNeeds }) => Promise<PlacementJson>, onPriceScan: (listener: () => void) => () => void }, log: Logger, metrics: { recordAutoPlacement: (kind: 'request_move' | 'price', outcome: string) => void }): AutoPlacer {
  const placer = new AutoPlacer({
    runtime,
    log,
    place: async (agentId, needs) => await network.place(agentId, undefined, { needs }),
    onPriceScan: (listener) => network.onPriceScan(listener),
    onMoveRequest: (outcome) => { metrics.recordAutoPlacement('request_move', outcome) },
    onPricePlacement: (outcome) => { metrics.recordAutoPlacement('price', outcome) }
  })
  placer.start()
  return placer
}
