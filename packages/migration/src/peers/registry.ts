// SPEC §16 Peers: the node's registry of known peers, persisted in the data dir.
import { open, mkdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { type Logger, silentLogger } from '@igor/runner'
import { MigrationError } from '../errors.js'
import { PEERS_FILE, PeersFileError, type PeerEntry, decodePeersFile, encodePeersFile, splitPeerAddress } from './file.js'

export interface PeerRegistryOptions {
  /** `--peer` addresses: always known, never evicted (each must end in `/p2p/<peerId>`). */
  readonly configured?: readonly string[]
  readonly logger?: Logger
  /** Entries kept at most (default 256); past it the least recently seen unpinned one goes. */
  readonly maxPeers?: number
  /** Addresses kept per peer (default 8); past it the oldest goes. */
  readonly maxAddresses?: number
  /** A failure older than this no longer counts (default 10 min). */
  readonly failureWindowMs?: number
  /** Injectable clock, Unix ms. */
  readonly now?: () => number
}

/** What a price scan learns of a peer (SPEC §15 `/igor/price/1.0.0`); absent fields are left as they are. */
export interface PeerFacts {
  readonly price?: bigint | null
  readonly capabilities?: readonly string[] | null
  readonly freeSlots?: number | null
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export const DEFAULT_MAX_PEERS = 256
export const DEFAULT_MAX_ADDRESSES = 8
export const DEFAULT_FAILURE_WINDOW_MS = 10 * 60_000

/**
 * The node's known peers (SPEC §16), kept in `<dataDir>/peers.json`. It
 * replaces issue 12's address book (same file; its `{ "peers": [addr…] }` form
 * is read and rewritten as version 2). Every change is written atomically in
 * the background (temp file, fsync, rename); `flush()` waits for it. A file
 * that cannot be read is logged and the registry starts empty (the node still
 * starts). Bounded: `maxPeers` entries, `maxAddresses` addresses each.
 */
export class PeerRegistry {
  private readonly entries = new Map<string, Mutable<PeerEntry>>()
  private readonly pinned = new Set<string>()
  private writing: Promise<void> | null = null
  private dirty = false
  private readonly listeners = new Set<(entry: PeerEntry) => void>()

  private constructor(private readonly path: string | null, private readonly options: PeerRegistryOptions, private readonly log: Logger) {}

  /** Loads `<dataDir>/peers.json` (absent, unreadable or corrupt → empty, logged) and adds the `configured` peers. */
  static async open(dataDir: string | null, options: PeerRegistryOptions = {}): Promise<PeerRegistry> {
    const log = options.logger ?? silentLogger
    const configured = (options.configured ?? []).map((text) => {
      const split = splitPeerAddress(text)
      if (split === null) throw new MigrationError('BAD_PEER_ADDRESS', `--peer ${JSON.stringify(text)}: must be a multiaddr ending with /p2p/<peerId>`)
      return split
    })
    const registry = new PeerRegistry(dataDir === null ? null : join(dataDir, PEERS_FILE), options, log)
    if (dataDir !== null) {
      const loaded = await readPeersFile(dataDir, log, { setAsideCorrupt: true })
      for (const entry of loaded) registry.entries.set(entry.peerId, { ...entry, addresses: [...entry.addresses] })
      if (loaded.length > 0 && loaded.every((e) => e.lastSeen === 0 && e.price === null)) registry.dirty = true // a version 1 file: rewrite it
    }
    for (const { peerId, address } of configured) {
      registry.pinned.add(peerId)
      registry.addAddresses(registry.ensure(peerId), [address])
    }
    registry.trim()
    if (registry.dirty || configured.length > 0) registry.save()
    return registry
  }

  /** Every entry, most recently seen first (copies). */
  list(): PeerEntry[] {
    return [...this.entries.values()].map((e) => this.view(e)).sort((a, b) => b.lastSeen - a.lastSeen || a.peerId.localeCompare(b.peerId))
  }

  get(peerId: string): PeerEntry | null {
    const entry = this.entries.get(peerId)
    return entry === undefined ? null : this.view(entry)
  }

  has(peerId: string): boolean {
    return this.entries.has(peerId)
  }

  /** Every known dialable address except `selfPeerId`'s (the addresses assisted recovery asks). */
  addresses(selfPeerId?: string): string[] {
    return this.list().filter((e) => e.peerId !== selfPeerId).flatMap((e) => e.addresses)
  }

  /** The peer's current addresses (most recently learned first), or [] for an unknown peer. */
  addressesOf(peerId: string): string[] {
    return [...this.entries.get(peerId)?.addresses ?? []]
  }

  /**
   * A contact that worked: the peer is known (added if new, evicting the least
   * recently seen past the cap), `addrs` become its newest addresses, lastSeen = now.
   * Addresses may be given with or without the `/p2p/<peerId>` tail; others are ignored.
   */
  recordContact(peerId: string, addrs: readonly string[] = []): void {
    const entry = this.ensure(peerId)
    this.addAddresses(entry, addrs)
    entry.lastSeen = this.now()
    this.changed(entry)
  }

  /**
   * A peer answered a query or took a hand-off dialled at `address`: lastSeen = now,
   * and `address` is kept, but it does not become the peer's newest address.
   * libp2p answers a dial over any open connection to the peer, so a stale
   * address "works" while the peer is connected from its new one; only what the
   * peer says about itself (identify, mDNS) reorders its addresses. After a
   * dial failure to another of its addresses in the same attempt (`afterDialFailure`),
   * no connection was open, so `address` did answer and becomes the newest.
   */
  recordAnswer(peerId: string, address: string, afterDialFailure = false): void {
    if (afterDialFailure) {
      this.recordContact(peerId, [address])
      return
    }
    const entry = this.ensure(peerId)
    const split = splitPeerAddress(address.includes('/p2p/') ? address : `${address}/p2p/${peerId}`)
    const max = this.options.maxAddresses ?? DEFAULT_MAX_ADDRESSES
    if (split !== null && split.peerId === peerId && !entry.addresses.includes(split.address) && entry.addresses.length < max) entry.addresses = [...entry.addresses, split.address]
    entry.lastSeen = this.now()
    this.changed(entry)
  }

  /** Learns addresses for a peer without saying it answered (`--peer`, a hand-off about to be tried, mDNS before a dial). */
  remember(peerId: string, addrs: readonly string[]): void {
    const entry = this.ensure(peerId)
    this.addAddresses(entry, addrs)
    this.changed(entry)
  }

  /** A failed dial, query or hand-off: one more recent failure (placement passes peers with 3 or more). Unknown peers are ignored. */
  recordFailure(peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry === undefined) return
    const now = this.now()
    entry.failures = this.recentFailures(entry) + 1
    entry.lastFailure = now
    this.changed(entry)
  }

  /** A contact that worked: failures reset, lastSeen = now. Unknown peers are ignored. */
  recordSuccess(peerId: string): void {
    const entry = this.entries.get(peerId)
    if (entry === undefined) return
    entry.failures = 0
    entry.lastSeen = this.now()
    this.changed(entry)
  }

  /**
   * What a price scan learned (SPEC §15, §16): the place the scan writes price,
   * capabilities and free slots. Does not touch lastSeen or failures (the scan
   * calls `recordSuccess`/`recordFailure` for that). Unknown peers are ignored; returns whether it applied. A price
   * outside u64 or bad free slots → `MigrationError('BAD_PEER_FACTS')`, nothing changed.
   */
  update(peerId: string, facts: PeerFacts): boolean {
    const entry = this.entries.get(peerId)
    if (entry === undefined) return false
    const { price, capabilities, freeSlots } = facts
    if (price !== undefined && price !== null && (typeof price !== 'bigint' || price < 0n || price >= 1n << 64n)) throw new MigrationError('BAD_PEER_FACTS', `price of ${peerId} must be a u64 bigint, got ${String(price)}`)
    if (freeSlots !== undefined && freeSlots !== null && (!Number.isSafeInteger(freeSlots) || freeSlots < 0)) throw new MigrationError('BAD_PEER_FACTS', `freeSlots of ${peerId} must be a non-negative integer, got ${String(freeSlots)}`)
    if (capabilities !== undefined && capabilities !== null && !capabilities.every((c) => typeof c === 'string')) throw new MigrationError('BAD_PEER_FACTS', `capabilities of ${peerId} must be strings`)
    if (price !== undefined) entry.price = price
    if (capabilities !== undefined) entry.capabilities = capabilities === null ? null : [...capabilities]
    if (freeSlots !== undefined) entry.freeSlots = freeSlots
    this.changed(entry)
    return true
  }

  /** Called after every change to an entry (the mDNS/identify feed and tests use it). */
  onChange(listener: (entry: PeerEntry) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves once every change so far is on disk (or its write failed, which is logged). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private recentFailures(entry: PeerEntry): number {
    if (entry.failures === 0) return 0
    return this.now() - entry.lastFailure > (this.options.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS) ? 0 : entry.failures
  }

  private view(entry: PeerEntry): PeerEntry {
    return { ...entry, addresses: [...entry.addresses], capabilities: entry.capabilities === null ? null : [...entry.capabilities], failures: this.recentFailures(entry) }
  }

  private ensure(peerId: string): Mutable<PeerEntry> {
    let entry = this.entries.get(peerId)
    if (entry === undefined) {
      entry = { peerId, addresses: [], price: null, capabilities: null, freeSlots: null, lastSeen: 0, failures: 0, lastFailure: 0 }
      this.entries.set(peerId, entry)
      this.trim(peerId)
    }
    return entry
  }

  private addAddresses(entry: Mutable<PeerEntry>, addrs: readonly string[]): void {
    if (addrs.length === 0) return
    const fresh: string[] = []
    for (const text of addrs) {
      const split = splitPeerAddress(text.includes('/p2p/') ? text : `${text}/p2p/${entry.peerId}`)
      if (split === null || split.peerId !== entry.peerId || fresh.includes(split.address)) continue
      fresh.push(split.address)
    }
    const next = [...fresh, ...entry.addresses.filter((a) => !fresh.includes(a))].slice(0, this.options.maxAddresses ?? DEFAULT_MAX_ADDRESSES)
    entry.addresses = next
  }

  /** Evicts the least recently seen entries past the cap (pinned `--peer` ones last, `keep` never). */
  private trim(keep?: string): void {
    const max = this.options.maxPeers ?? DEFAULT_MAX_PEERS
    while (this.entries.size > max) {
      const order = [...this.entries.values()].filter((e) => e.peerId !== keep).sort((a, b) =>
        Number(this.pinned.has(a.peerId)) - Number(this.pinned.has(b.peerId)) || a.lastSeen - b.lastSeen)
      const victim = order[0]
      if (victim === undefined) return
      this.entries.delete(victim.peerId)
      this.dirty = true
    }
  }

  private changed(entry: PeerEntry): void {
    this.save()
    const view = this.view(entry)
    for (const listener of this.listeners) {
      try { listener(view) } catch { /* a listener's failure is its own */ }
    }
  }

  /** Coalesced background writes: at most one in flight, one more queued. */
  private save(): void {
    this.dirty = true
    if (this.path === null || this.writing !== null) return
    const path = this.path
    this.writing = (async () => {
      while (this.dirty) {
        this.dirty = false
        const text = encodePeersFile([...this.entries.values()])
        try {
          await writeAtomic(path, text)
        } catch (error) {
          this.log.warn({ path, error: (error as Error).message }, 'peers: could not write the peer registry (kept in memory)')
        }
      }
    })().finally(() => { this.writing = null })
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const dir = join(path, '..')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const tmp = `${path}.tmp`
  const handle = await open(tmp, 'w', 0o600)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(tmp, path)
  } catch (error) {
    await unlink(tmp).catch(() => undefined)
    throw error
  }
  const d = await open(dir, 'r').catch(() => null)
  if (d !== null) {
    await d.sync().catch(() => undefined)
    await d.close()
  }
}

/**
 * `<dataDir>/peers.json` as entries, for the registry and for `igord peers`
 * with no node running. Absent → []; unreadable or corrupt → logged, [].
 */
export async function readPeersFile(dataDir: string, logger: Pick<Logger, 'warn'> = silentLogger, options: { readonly setAsideCorrupt?: boolean } = {}): Promise<PeerEntry[]> {
  const path = join(dataDir, PEERS_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ path, error: (error as Error).message }, `peers: cannot read ${path}; read as empty`)
    return []
  }
  try {
    const { entries, dropped } = decodePeersFile(text)
    if (dropped.length > 0) logger.warn({ path, dropped }, 'peers: addresses without a /p2p/<peerId> dropped from the old peer book')
    return entries
  } catch (error) {
    if (!(error instanceof PeersFileError)) throw error
    const kept = options.setAsideCorrupt === true ? `${path}.corrupt` : null
    if (kept !== null) await rename(path, kept).catch(() => undefined) // kept for the operator, not overwritten by the next save
    logger.warn({ path, kept, error: error.message }, `peers: ${path} is corrupt (${error.message}); read as empty${kept !== null ? `, set aside as ${kept}` : ''}`)
    return []
  }
}
