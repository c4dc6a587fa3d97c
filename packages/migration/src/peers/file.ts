// SPEC §16 Peers: the registry's file, `<dataDir>/peers.json` (one JSON document, u64 price as a decimal string).
import { multiaddr } from '@multiformats/multiaddr'

/** One known peer (SPEC §16): what the node knows of it and how it went lately. */
export interface PeerEntry {
  readonly peerId: string
  /** Dialable multiaddrs, each ending in `/p2p/<peerId>`, most recently learned first. */
  readonly addresses: readonly string[]
  /** Its price per second in micro-units (SPEC §15), from the last price scan; null: unknown. */
  readonly price: bigint | null
  /** Capabilities it offers agents, from the last price scan; null: unknown. */
  readonly capabilities: readonly string[] | null
  /** Agents it can still take, from the last price scan; null: unknown. */
  readonly freeSlots: number | null
  /** Unix ms of the last contact that worked (answer, hand-off, identify, mDNS); 0: never. */
  readonly lastSeen: number
  /** Failures since the last success, within the failure window (0 once it has passed). */
  readonly failures: number
  /** Unix ms of the last failure; 0: none. */
  readonly lastFailure: number
}

/** The file as written: version 2. Version 1 (issue 12's `PeerBook`) was `{ "peers": ["<multiaddr>", …] }`. */
export interface PeersFile {
  readonly version: 2
  readonly peers: ReadonlyArray<{
    peerId: string
    addresses: string[]
    price: string | null
    capabilities: string[] | null
    freeSlots: number | null
    lastSeen: number
    failures: number
    lastFailure: number
  }>
}

export const PEERS_FILE = 'peers.json'
const U64_MAX = (1n << 64n) - 1n

/** `<addr>/p2p/<id>` → `{ peerId, address }` with the address normalised (one trailing /p2p/); null if it has no peer id or does not parse. */
export function splitPeerAddress(text: string): { peerId: string, address: string } | null {
  try {
    const ma = multiaddr(text)
    const peerId = ma.getPeerId()
    if (peerId === null) return null
    const transport = ma.decapsulateCode(421) // 421: p2p
    const head = transport.toString()
    return { peerId, address: head === '/' || head === '' ? `/p2p/${peerId}` : `${head}/p2p/${peerId}` }
  } catch {
    return null
  }
}

export function encodePeersFile(entries: readonly PeerEntry[]): string {
  const file: PeersFile = {
    version: 2,
    peers: entries.map((e) => ({
      peerId: e.peerId,
      addresses: [...e.addresses],
      price: e.price === null ? null : e.price.toString(),
      capabilities: e.capabilities === null ? null : [...e.capabilities],
      freeSlots: e.freeSlots,
      lastSeen: e.lastSeen,
      failures: e.failures,
      lastFailure: e.lastFailure
    }))
  }
  return `${JSON.stringify(file, null, 2)}\n`
}

/** Why the file could not be read; the registry logs it and starts empty. */
export class PeersFileError extends Error {
  override readonly name = 'PeersFileError'
}

const isInt = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max

/**
 * The file's text → entries. Version 2 is checked field by field; version 1's
 * address list is grouped by peer id (addresses without one are dropped: no
 * query could use them). Anything else → `PeersFileError` naming what is wrong.
 */
export function decodePeersFile(text: string): { entries: PeerEntry[], dropped: string[] } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new PeersFileError(`not JSON (${(error as Error).message})`)
  }
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { peers?: unknown }).peers)) throw new PeersFileError('no "peers" list')
  const { version, peers } = json as { version?: unknown, peers: unknown[] }
  if (version === undefined) return fromVersion1(peers)
  if (version !== 2) throw new PeersFileError(`unknown version ${JSON.stringify(version)}`)
  const entries: PeerEntry[] = []
  for (const [i, raw] of peers.entries()) {
    const p = raw as Record<string, unknown>
    const bad = (field: string): PeersFileError => new PeersFileError(`peers[${i}].${field} is not valid`)
    if (typeof p !== 'object' || p === null) throw bad('(entry)')
    if (typeof p.peerId !== 'string' || p.peerId === '') throw bad('peerId')
    if (!Array.isArray(p.addresses) || !p.addresses.every((a) => typeof a === 'string')) throw bad('addresses')
    const addresses: string[] = []
    for (const a of p.addresses) {
      const split = splitPeerAddress(a)
      if (split === null || split.peerId !== p.peerId) throw bad('addresses')
      if (!addresses.includes(split.address)) addresses.push(split.address)
    }
    let price: bigint | null = null
    if (p.price !== null) {
      if (typeof p.price !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(p.price) || BigInt(p.price) > U64_MAX) throw bad('price')
      price = BigInt(p.price)
    }
    if (p.capabilities !== null && (!Array.isArray(p.capabilities) || !p.capabilities.every((c) => typeof c === 'string'))) throw bad('capabilities')
    if (p.freeSlots !== null && !isInt(p.freeSlots)) throw bad('freeSlots')
    if (!isInt(p.lastSeen)) throw bad('lastSeen')
    if (!isInt(p.failures, 1_000_000)) throw bad('failures')
    const lastFailure = p.lastFailure === undefined ? 0 : p.lastFailure
    if (!isInt(lastFailure)) throw bad('lastFailure')
    entries.push({
      peerId: p.peerId,
      addresses,
      price,
      capabilities: p.capabilities === null ? null : [...p.capabilities],
      freeSlots: p.freeSlots,
      lastSeen: p.lastSeen,
      failures: p.failures,
      lastFailure
    })
  }
  return { entries, dropped: [] }
}

function fromVersion1(peers: unknown[]): { entries: PeerEntry[], dropped: string[] } {
  const byId = new Map<string, string[]>()
  const dropped: string[] = []
  for (const raw of peers) {
    const split = typeof raw === 'string' ? splitPeerAddress(raw) : null
    if (split === null) {
      dropped.push(String(raw))
      continue
    }
    const list = byId.get(split.peerId) ?? []
    if (!list.includes(split.address)) list.unshift(split.address) // later entries were learned later
    byId.set(split.peerId, list)
  }
  const entries = [...byId].map(([peerId, addresses]): PeerEntry => ({
    peerId, addresses, price: null, capabilities: null, freeSlots: null, lastSeen: 0, failures: 0, lastFailure: 0
  }))
  return { entries, dropped }
}
