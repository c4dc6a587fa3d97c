// SPEC §15 `/igor/price/1.0.0`: "a peer may ask at most 60 times a minute". A sliding window per
// asking peer (the times of its last answered asks: never more than `perPeerPerMinute` in any 60 s,
// unlike a token bucket, whose burst plus refill lets up to twice that through in one minute), and a
// node-wide token bucket over every ask, refused ones included, so fresh peer keys cannot make the
// node do unbounded work. A refused ask is not counted in the peer's window.

export interface PriceRateLimits {
  /** Answers one peer gets in any 60 s. Default 60 (SPEC §15). */
  readonly perPeerPerMinute: number
  /** Node-wide bucket size, over all asks. Default 1000. */
  readonly nodeBurst: number
  /** Node-wide tokens per second. Default 200. */
  readonly nodePerSecond: number
  /** Peers tracked at once (least recently seen forgotten first). Default 4096. */
  readonly maxPeers: number
}

export const DEFAULT_PRICE_RATE_LIMITS: PriceRateLimits = {
  perPeerPerMinute: 60,
  nodeBurst: 1000,
  nodePerSecond: 200,
  maxPeers: 4096
}

const WINDOW_MS = 60_000

class Window {
  /** Times of answered asks, oldest first (at most `size`). */
  readonly times: number[] = []
  lastLoggedAt = -Infinity
}

export class PriceRateLimiter {
  readonly limits: PriceRateLimits
  readonly #peers = new Map<string, Window>()
  readonly #now: () => number
  #nodeTokens: number
  #nodeAt: number

  constructor(limits: Partial<PriceRateLimits> = {}, now: () => number = () => performance.now()) {
    this.limits = { ...DEFAULT_PRICE_RATE_LIMITS, ...limits }
    this.#now = now
    this.#nodeTokens = this.limits.nodeBurst
    this.#nodeAt = now()
  }

  /**
   * One ask from `peer`. Null: answer it (it is counted). Else the refusal,
   * with `log` true at most once a minute per peer.
   */
  take(peer: string): { reason: string, log: boolean } | null {
    const now = this.#now()
    let window = this.#peers.get(peer)
    if (window === undefined) {
      if (this.#peers.size >= this.limits.maxPeers) this.#peers.delete(this.#peers.keys().next().value as string)
      window = new Window()
    } else {
      this.#peers.delete(peer) // re-inserted below: the map stays in least-recently-seen order
    }
    this.#peers.set(peer, window)
    while (window.times.length > 0 && now - (window.times[0] as number) >= WINDOW_MS) window.times.shift()

    this.#nodeTokens = Math.min(this.limits.nodeBurst, this.#nodeTokens + ((now - this.#nodeAt) / 1000) * this.limits.nodePerSecond)
    this.#nodeAt = now
    let reason: string | null = null
    if (this.#nodeTokens < 1) {
      reason = `this node answers at most ${this.limits.nodePerSecond} price queries a second; ask again later`
    } else {
      this.#nodeTokens -= 1
      if (window.times.length >= this.limits.perPeerPerMinute) {
        const waitS = Math.ceil((WINDOW_MS - (now - (window.times[0] as number))) / 1000)
        reason = `more than ${this.limits.perPeerPerMinute} price queries a minute from this peer; ask again in ${waitS}s`
      }
    }
    if (reason === null) {
      window.times.push(now)
      return null
    }
    const log = now - window.lastLoggedAt >= WINDOW_MS
    if (log) window.lastLoggedAt = now
    return { reason, log }
  }
}
