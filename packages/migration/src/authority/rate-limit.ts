/**
 * SPEC §7 "Queries are rate-limited per peer": token buckets for
 * `/igor/authority/1.0.0`, one per asking peer and one for the whole node
 * (a fresh peer key per query still meets the node-wide one). A query that
 * finds no token is answered `Held: "error"` with `RATE_LIMITED` and costs
 * nothing else: no disk read, no fence, no log line beyond one per peer per
 * minute.
 */
export interface AuthorityRateLimits {
  /** Queries a peer may send at once (bucket size). Default 20. */
  readonly perPeerBurst: number
  /** Tokens a peer gets back per second. Default 1 (60 a minute). */
  readonly perPeerPerSecond: number
  /** Node-wide bucket size. Default 200. */
  readonly nodeBurst: number
  /** Node-wide tokens per second. Default 50. */
  readonly nodePerSecond: number
  /** Peers tracked at once (oldest forgotten first). Default 4096. */
  readonly maxPeers: number
}

export const DEFAULT_AUTHORITY_RATE_LIMITS: AuthorityRateLimits = {
  perPeerBurst: 20,
  perPeerPerSecond: 1,
  nodeBurst: 200,
  nodePerSecond: 50,
  maxPeers: 4096
}

class Bucket {
  tokens: number
  at: number
  lastLoggedAt = -Infinity

  constructor(readonly size: number, readonly perSecond: number, now: number) {
    this.tokens = size
    this.at = now
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.size, this.tokens + ((now - this.at) / 1000) * this.perSecond)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

export class AuthorityRateLimiter {
  readonly limits: AuthorityRateLimits
  readonly #peers = new Map<string, Bucket>()
  readonly #node: Bucket
  readonly #now: () => number

  constructor(limits: Partial<AuthorityRateLimits> = {}, now: () => number = () => performance.now()) {
    this.limits = { ...DEFAULT_AUTHORITY_RATE_LIMITS, ...limits }
    this.#now = now
    this.#node = new Bucket(this.limits.nodeBurst, this.limits.nodePerSecond, now())
  }

  /**
   * Takes a token for `peer` (and one node-wide). Returns null when allowed,
   * else the refusal, with `log` true at most once a minute per peer.
   */
  take(peer: string): { reason: string, log: boolean } | null {
    const now = this.#now()
    let bucket = this.#peers.get(peer)
    if (bucket === undefined) {
      if (this.#peers.size >= this.limits.maxPeers) this.#peers.delete(this.#peers.keys().next().value as string)
      bucket = new Bucket(this.limits.perPeerBurst, this.limits.perPeerPerSecond, now)
    } else {
      this.#peers.delete(peer) // re-inserted below: the map stays in least-recently-used order
    }
    this.#peers.set(peer, bucket)
    let reason: string | null = null
    if (!bucket.take(now)) reason = `RATE_LIMITED: more than ${this.limits.perPeerBurst} authority queries at once or ${this.limits.perPeerPerSecond}/s from this peer; ask again later`
    else if (!this.#node.take(now)) reason = `RATE_LIMITED: this node answers at most ${this.limits.nodePerSecond} authority queries a second; ask again later`
    if (reason === null) return null
    const log = now - bucket.lastLoggedAt >= 60_000
    if (log) bucket.lastLoggedAt = now
    return { reason, log }
  }
}
