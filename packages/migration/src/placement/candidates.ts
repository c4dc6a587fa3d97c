// SPEC §16 Placement: which known peers may take an agent, and in which order they are tried.
import type { PeerEntry } from '../peers/file.js'

/** What an agent asks of its next node (from its manifest). */
export interface PlacementNeeds {
  /** `migration_policy.max_price_per_second`; null or 0: no cap (SPEC §16 "when > 0"). */
  readonly maxPricePerSecond: bigint | null
  /** Every capability the manifest declares. */
  readonly capabilities: readonly string[]
  /**
   * SPEC §16 `request_move` (ours): only peers whose known price is strictly
   * below this (this node's price); an unknown price does not pass here.
   */
  readonly priceBelow?: bigint
}

/** A known peer left out, and why (the summary and `--json` name it). */
export interface PassedOver {
  readonly peerId: string
  readonly reason: string
}

/** SPEC §16: a peer with this many recent failures is no candidate. */
export const MAX_RECENT_FAILURES = 3

/**
 * SPEC §16: candidates are the known peers other than `selfPeerId` with a
 * dialable address whose known price is ≤ the agent's cap (when > 0; unknown
 * price passes), that offer every capability the agent declares (unknown
 * passes), with fewer than 3 recent failures. Sorted by price (unknown
 * last), then failures, then most recently seen (then peer id, so the order
 * is total). Free slots do not filter: the node's answer (`NODE_FULL`) is
 * the authority, and moves placement on.
 */
export function selectCandidates(peers: readonly PeerEntry[], needs: PlacementNeeds, selfPeerId: string): { candidates: PeerEntry[], passedOver: PassedOver[] } {
  const candidates: PeerEntry[] = []
  const passedOver: PassedOver[] = []
  const cap = needs.maxPricePerSecond !== null && needs.maxPricePerSecond > 0n ? needs.maxPricePerSecond : null
  for (const peer of peers) {
    if (peer.peerId === selfPeerId) continue
    const reason = whyNot(peer, needs, cap)
    if (reason === null) candidates.push(peer)
    else passedOver.push({ peerId: peer.peerId, reason })
  }
  candidates.sort(byPlacementOrder)
  return { candidates, passedOver }
}

function whyNot(peer: PeerEntry, needs: PlacementNeeds, cap: bigint | null): string | null {
  if (peer.addresses.length === 0) return 'no known address'
  if (cap !== null && peer.price !== null && peer.price > cap) return `price ${peer.price} above the agent's max_price_per_second ${cap}`
  if (needs.priceBelow !== undefined) {
    if (peer.price === null) return 'price unknown (a requested move needs a cheaper node)'
    if (peer.price >= needs.priceBelow) return `price ${peer.price} not below this node's ${needs.priceBelow}`
  }
  if (peer.capabilities !== null) {
    const missing = needs.capabilities.filter((c) => !(peer.capabilities as readonly string[]).includes(c))
    if (missing.length > 0) return `does not offer ${missing.join(', ')}`
  }
  if (peer.failures >= MAX_RECENT_FAILURES) return `${peer.failures} recent failures`
  return null
}

/** Price ascending (unknown last), fewer failures, most recently seen, peer id. */
export function byPlacementOrder(a: PeerEntry, b: PeerEntry): number {
  if (a.price !== b.price) {
    if (a.price === null) return 1
    if (b.price === null) return -1
    return a.price < b.price ? -1 : 1
  }
  return a.failures - b.failures || b.lastSeen - a.lastSeen || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
}
