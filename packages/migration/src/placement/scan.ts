// SPEC §16 price scan: every known peer asked over `/igor/price/1.0.0` concurrently (5 s each), facts into the registry.
import type { Libp2p } from '@libp2p/interface'
import { type Logger, silentLogger } from '@igor/runner'
import { MigrationError, describeCause } from '../errors.js'
import type { PeerRegistry } from '../peers/registry.js'
import { DEFAULT_PRICE_TIMEOUT_MS, askPrice } from '../price/query.js'
import type { PriceAnswer } from '../price/wire.js'

/** Peers asked at once (SPEC §16: concurrent, bounded). */
export const DEFAULT_SCAN_CONCURRENCY = 16
/** SPEC §16 `--scan-interval` default. */
export const DEFAULT_SCAN_INTERVAL_MS = 60_000
/** A scan finished this recently is reused by the next placement (a peer answers 60 questions a minute). */
export const SCAN_REUSE_MS = 2_000

export interface PriceScanOptions {
  readonly node: Libp2p
  readonly registry: PeerRegistry
  readonly logger?: Logger
  /** Per peer, dial to answer (default 5 s). */
  readonly timeoutMs?: number
  readonly concurrency?: number
  /** Injectable question (tests); default `askPrice`. */
  readonly ask?: (address: string, timeoutMs: number) => Promise<PriceAnswer>
}

/** What one peer's question gave. */
export interface ScanOutcome {
  readonly peerId: string
  /** The answer's price, or null when the peer did not answer with one. */
  readonly price: bigint | null
  /** Null on an answer; else the typed error code (`DIAL_FAILED`, `BAD_REPLY`, `TRANSFER_TIMEOUT`, `RATE_LIMITED`, …). */
  readonly code: string | null
}

/** SPEC §16: free slots from an answer: `max_agents − agents`, null when the node has no cap or did not say. */
export function freeSlotsOf(answer: Pick<PriceAnswer, 'agents' | 'maxAgents'>): number | null {
  if (answer.maxAgents === undefined || answer.maxAgents === 0 || answer.agents === undefined) return null
  return Math.max(0, answer.maxAgents - answer.agents)
}

/**
 * The node's price scanner. `scan()` asks every known peer except this node,
 * at most `concurrency` at a time, each with its own 5 s budget over its
 * addresses (newest first), and writes price, capabilities and free slots
 * into the registry. A peer that does not answer (or answers garbage) gets a
 * failure; a `RATE_LIMITED` answer is neither (the peer is alive; its facts
 * stay as they were). Failures a scan counted are cleared by its next
 * answer; failures a hand-off counted are not (only a hand-off's success
 * clears those), so a peer that answers scans but refuses agents stays
 * demoted. Concurrent `scan()` calls share one run, and one finished within
 * `SCAN_REUSE_MS` is reused.
 */
export class PriceScanner {
  private running: Promise<ScanOutcome[]> | null = null
  private last: { at: number, outcomes: ScanOutcome[] } | null = null
  private timer: NodeJS.Timeout | null = null
  /** Peers whose latest failure was a scan's (cleared by their next answer). */
  private readonly scanFailed = new Set<string>()
  private readonly log: Logger
  /** SPEC §16 "Moving for price": told after every scan that ran (the node retries held placements then). */
  private readonly listeners = new Set<(outcomes: readonly ScanOutcome[]) => void>()

  constructor(private readonly options: PriceScanOptions) {
    this.log = options.logger ?? silentLogger
  }

  /** Runs a scan (or joins the one under way, or reuses one a moment old). */
  async scan(): Promise<ScanOutcome[]> {
    if (this.last !== null && performance.now() - this.last.at < SCAN_REUSE_MS && this.running === null) return this.last.outcomes
    this.running ??= this.run().finally(() => { this.running = null })
    return await this.running
  }

  /** Calls `listener` after every scan that ran (not a reused one); returns the function that removes it. A throwing listener is ignored. */
  onScanned(listener: (outcomes: readonly ScanOutcome[]) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** A hand-off's outcome was recorded for `peerId` (its failures are no longer the scan's to clear). */
  handoffRecorded(peerId: string): void {
    this.scanFailed.delete(peerId)
  }

  /** Scans every `intervalMs` (the first one now); 0 or less: never on a timer. */
  start(intervalMs: number): void {
    this.stop()
    if (!(intervalMs > 0)) return
    const tick = (): void => {
      void this.scan().catch((error: unknown) => this.log.warn({}, `price scan failed: ${describeCause(error)}`))
      this.timer = setTimeout(tick, intervalMs)
      this.timer.unref()
    }
    tick()
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private async run(): Promise<ScanOutcome[]> {
    const self = this.options.node.peerId.toString()
    const peers = this.options.registry.list().filter((p) => p.peerId !== self && p.addresses.length > 0)
    const outcomes: ScanOutcome[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < peers.length) {
        const peer = peers[next++]
        if (peer === undefined) return
        outcomes.push(await this.askOne(peer.peerId, [...peer.addresses]))
      }
    }
    const width = Math.max(1, Math.min(this.options.concurrency ?? DEFAULT_SCAN_CONCURRENCY, peers.length))
    await Promise.all(Array.from({ length: width }, worker))
    const answered = outcomes.filter((o) => o.code === null).length
    this.log.debug({ peers: peers.length, answered }, 'price scan done')
    this.last = { at: performance.now(), outcomes }
    for (const listener of this.listeners) {
      try {
        listener(outcomes)
      } catch {
        // a listener's failure is never the scan's
      }
    }
    return outcomes
  }

  private async askOne(peerId: string, addresses: string[]): Promise<ScanOutcome> {
    const registry = this.options.registry
    const budget = this.options.timeoutMs ?? DEFAULT_PRICE_TIMEOUT_MS
    const ask = this.options.ask ?? (async (address: string, timeoutMs: number) => await askPrice(this.options.node, address, { timeoutMs }))
    const started = performance.now()
    let code = 'DIAL_FAILED'
    let why = 'no address answered in time'
    for (const address of addresses) {
      const left = Math.floor(budget - (performance.now() - started))
      if (left < 1) break
      try {
        const answer = await ask(address, left)
        registry.update(peerId, { price: answer.pricePerSecond, capabilities: answer.capabilities ?? null, freeSlots: freeSlotsOf(answer) })
        registry.recordAnswer(peerId, address, code === 'DIAL_FAILED' && address !== addresses[0])
        if (this.scanFailed.delete(peerId)) registry.recordSuccess(peerId)
        return { peerId, price: answer.pricePerSecond, code: null }
      } catch (error) {
        code = error instanceof MigrationError ? error.code : 'UNKNOWN'
        why = describeCause(error)
        if (code === 'RATE_LIMITED') {
          registry.recordAnswer(peerId, address)
          return { peerId, price: null, code }
        }
        // Another address may answer only when this one could not be dialled.
        if (code !== 'DIAL_FAILED') break
      }
    }
    registry.recordFailure(peerId)
    this.scanFailed.add(peerId)
    this.log.info({ peer: peerId, code }, `price scan: ${peerId} did not answer: ${why}`)
    return { peerId, price: null, code }
  }
}
