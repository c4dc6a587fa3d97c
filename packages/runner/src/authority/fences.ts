import { access, mkdir, readFile, readdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Epoch, U64_MAX } from '@igor/epoch'
import { RunnerError } from '../errors.js'
import { validateAgentId } from '../store/agent-id.js'
import { DIR_MODE, fsyncDirectory, writeFileAtomic } from '../store/atomic-write.js'
import { errnoCode, storeIoError } from '../store/fs-errors.js'

/** SPEC §7: at most this many fence entries on a node; over it, no new fence (the asker is answered `unknown`). */
export const DEFAULT_FENCE_CAP = 1024
/**
 * SPEC §7: a fence for an agent this node holds nothing of (no checkpoint, no
 * authority record, no tombstone: no hand-off in flight, nothing held) stops
 * being enforced, and is removed, this long after it was written. It only has
 * to outlive a package of the ambiguous hand-off still in flight, which a
 * target reads within its transfer timeout (30 s by default).
 */
export const DEFAULT_FENCE_TTL_MS = 24 * 60 * 60 * 1000

/** One promise made to one asker. */
export interface FenceEntry {
  readonly epoch: Epoch
  /** Hex of the agent key the fence is for: only packages signed by that key are refused. Null: every package. */
  readonly key: string | null
  /** The peer id the fence was written for (null for fences written before issue 16). */
  readonly peer: string | null
  /** Unix ns (u64) of the write (for a format-1 file, its modification time); null only before it was read. */
  readonly writtenAtNs: bigint | null
}

/** A fence as `igord fences` lists it. */
export interface FenceRow extends FenceEntry {
  readonly agentId: string
  /** Unix ns when it stops being enforced, or null while it guards something here (it does not expire then). */
  readonly expiresAtNs: bigint | null
}

export interface FenceStoreOptions {
  readonly cap?: number
  readonly ttlMs?: number
  readonly nowNs?: () => bigint
}

const nowNsOf = (): bigint => BigInt(Date.now()) * 1_000_000n

/**
 * Durable fences of `/igor/authority/1.0.0` (issue 12 item 4, issue 16):
 * "this node refuses any package for agent X signed by key K at or below
 * epoch E". A peer writes one, for an asker that proved its stake (SPEC §7),
 * before it answers "I hold nothing newer" to a node that is about to recover
 * X at a higher generation, so a package still in flight from the ambiguous
 * hand-off can never be admitted afterwards.
 *
 * `<dataDir>/fences/<agentId>.json` (format 2: one entry per key; format 1,
 * one unkeyed epoch, is still read), written atomically (temp → fsync →
 * rename → fsync dir). An entry only ever rises; it goes when it expires
 * (see DEFAULT_FENCE_TTL_MS) or by `igord unfence`.
 */
export class FenceStore {
  readonly #dir: string
  readonly #checkpointsDir: string
  readonly #cache = new Map<string, FenceEntry[]>()
  readonly #cap: number
  readonly #ttlNs: bigint
  readonly #now: () => bigint
  #count: Promise<number> | null = null
  #ready: Promise<void> | null = null
  /** Writes are serialized: the cap count and read-modify-write of one file stay exact. */
  #queue: Promise<unknown> = Promise.resolve()

  constructor(dataDir: string, options: FenceStoreOptions = {}) {
    this.#dir = join(dataDir, 'fences')
    this.#checkpointsDir = join(dataDir, 'checkpoints')
    this.#cap = options.cap ?? DEFAULT_FENCE_CAP
    this.#ttlNs = BigInt(options.ttlMs ?? DEFAULT_FENCE_TTL_MS) * 1_000_000n
    this.#now = options.nowNs ?? nowNsOf
  }

  get cap(): number {
    return this.#cap
  }

  /** Every entry for the agent, expired ones included. */
  async entries(agentId: string): Promise<FenceEntry[]> {
    validateAgentId(agentId)
    const cached = this.#cache.get(agentId)
    if (cached !== undefined) return cached
    const path = this.#path(agentId)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        this.#cache.set(agentId, [])
        return []
      }
      throw storeIoError(path, 'read', error)
    }
    let entries = decodeFences(agentId, text, path)
    if (entries.some((e) => e.writtenAtNs === null)) {
      // Format 1 kept no time: the file's own is the time it was written (so fences from before issue 16 expire too).
      const written = await stat(path).then((st) => BigInt(Math.floor(st.mtimeMs)) * 1_000_000n, () => this.#now())
      entries = entries.map((e) => e.writtenAtNs === null ? { ...e, writtenAtNs: written } : e)
    }
    this.#cache.set(agentId, entries)
    return entries
  }

  /** The highest epoch fenced for the agent (any key), or null. */
  async read(agentId: string): Promise<Epoch | null> {
    let top: Epoch | null = null
    for (const entry of await this.#live(agentId)) if (top === null || entry.epoch.supersedes(top)) top = entry.epoch
    return top
  }

  /**
   * Raises the fence for `key` to `epoch` (never lowers it), durably, before
   * returning the fence in force for that key. Null when a new entry would go
   * over the cap (after dropping expired ones): nothing was written.
   */
  async raise(agentId: string, epoch: Epoch, by: { key: string | null, peer: string | null }): Promise<Epoch | null> {
    validateAgentId(agentId)
    return this.#serial(async () => {
      const entries = await this.entries(agentId)
      const same = entries.find((e) => e.key === by.key)
      if (same !== undefined && !epoch.supersedes(same.epoch)) return same.epoch
      if (same === undefined && await this.#countNow() >= this.#cap) {
        await this.#sweep()
        if (await this.#countNow() >= this.#cap) return null
      }
      const entry: FenceEntry = { epoch, key: by.key, peer: by.peer, writtenAtNs: this.#now() }
      await this.#write(agentId, [...entries.filter((e) => e !== same), entry])
      if (same === undefined) this.#count = this.#countNow().then((n) => n + 1)
      return epoch
    })
  }

  /**
   * SPEC §7 target 2 + issue 12: refuse a package at or below a fence in force
   * for its key (`agentKey`: the checkpoint's `agentPubKey`; null for an
   * unsigned package, which only unkeyed fences refuse; omitted: every fence applies).
   */
  async refuseIfFenced(agentId: string, sourceEpoch: Epoch, agentKey?: Uint8Array | null): Promise<void> {
    const key = agentKey === undefined ? undefined : agentKey === null ? null : Buffer.from(agentKey).toString('hex')
    for (const fence of await this.#live(agentId)) {
      if (key !== undefined && fence.key !== null && fence.key !== key) continue
      if (!sourceEpoch.supersedes(fence.epoch)) {
        throw new RunnerError('FENCED', `stale package: this node fenced ${agentId} at ${fence.epoch} for a peer's recovery; ${sourceEpoch} is not above it`)
      }
    }
  }

  /** Every fence on this node (expired ones are removed first), sorted by agent id. */
  async list(): Promise<FenceRow[]> {
    return this.#serial(async () => {
      await this.#sweep()
      const rows: FenceRow[] = []
      for (const agentId of await this.#agentIds()) {
        const guards = await this.#guardsSomething(agentId)
        for (const entry of await this.entries(agentId)) rows.push({ agentId, ...entry, expiresAtNs: guards ? null : this.#expiry(entry) })
      }
      return rows.sort((a, b) => a.agentId.localeCompare(b.agentId))
    })
  }

  /** `igord unfence <id>`: removes every fence entry of the agent, durably; returns what it removed. */
  async lift(agentId: string): Promise<FenceEntry[]> {
    validateAgentId(agentId)
    return this.#serial(async () => {
      const entries = await this.entries(agentId)
      if (entries.length === 0) throw new RunnerError('AGENT_NOT_FOUND', `no fence for ${agentId} on this node`)
      await this.#remove(agentId)
      return entries
    })
  }

  /** Entries in force now: an entry guarding nothing here stops applying once its time is up. */
  async #live(agentId: string): Promise<FenceEntry[]> {
    const entries = await this.entries(agentId)
    if (entries.length === 0) return entries
    const now = this.#now()
    if (entries.every((e) => this.#expiry(e) > now)) return entries
    if (await this.#guardsSomething(agentId)) return entries
    return entries.filter((e) => this.#expiry(e) > now)
  }

  #expiry(entry: FenceEntry): bigint {
    const written = entry.writtenAtNs ?? this.#now()
    const at = written + this.#ttlNs
    return at > U64_MAX ? U64_MAX : at
  }

  /** Something of the agent is held here: a checkpoint, an authority record (a hand-off in flight) or a tombstone. */
  async #guardsSomething(agentId: string): Promise<boolean> {
    const held = await Promise.all(['.checkpoint', '.authority.json', '.tombstone.json'].map(async (suffix) =>
      access(join(this.#checkpointsDir, `${agentId}${suffix}`)).then(() => true, () => false)))
    return held.some(Boolean)
  }

  /** Drops entries whose time is up and that guard nothing; runs inside #serial. */
  async #sweep(): Promise<void> {
    const now = this.#now()
    for (const agentId of await this.#agentIds()) {
      const entries = await this.entries(agentId)
      const kept = entries.filter((e) => this.#expiry(e) > now)
      if (kept.length === entries.length || await this.#guardsSomething(agentId)) continue
      if (kept.length === 0) {
        await this.#remove(agentId)
      } else {
        await this.#write(agentId, kept)
        this.#count = this.#countNow().then((n) => n - (entries.length - kept.length))
      }
    }
  }

  async #agentIds(): Promise<string[]> {
    const names = await readdir(this.#dir).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return [] as string[]
      throw storeIoError(this.#dir, 'list', error)
    })
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)).filter((id) => {
      try {
        validateAgentId(id)
        return true
      } catch {
        return false
      }
    })
  }

  async #countNow(): Promise<number> {
    this.#count ??= (async () => {
      let n = 0
      for (const agentId of await this.#agentIds()) n += (await this.entries(agentId).catch(() => [])).length
      return n
    })()
    return this.#count
  }

  async #write(agentId: string, entries: FenceEntry[]): Promise<void> {
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: DIR_MODE }).then(async () => fsyncDirectory(join(this.#dir, '..')))
    await this.#ready
    await writeFileAtomic(this.#dir, `${agentId}.json`, new TextEncoder().encode(encodeFences(agentId, entries)))
    this.#cache.set(agentId, entries)
  }

  async #remove(agentId: string): Promise<void> {
    const path = this.#path(agentId)
    try {
      await unlink(path)
      await fsyncDirectory(this.#dir)
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw storeIoError(path, 'remove', error)
    }
    const had = this.#cache.get(agentId)?.length ?? 0
    this.#cache.set(agentId, [])
    if (this.#count !== null) this.#count = this.#count.then((n) => Math.max(0, n - had))
  }

  #path(agentId: string): string {
    return join(this.#dir, `${agentId}.json`)
  }

  async #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job, job)
    this.#queue = run.catch(() => undefined)
    return run
  }
}

function encodeFences(agentId: string, entries: readonly FenceEntry[]): string {
  return `${JSON.stringify({
    format: 2,
    agentId,
    fences: entries.map((e) => ({
      epoch: e.epoch.toJSON(),
      key: e.key,
      peer: e.peer,
      writtenAtNs: e.writtenAtNs?.toString() ?? null
    }))
  }, null, 2)}\n`
}

function decodeFences(agentId: string, text: string, path: string): FenceEntry[] {
  const bad = (why: string): RunnerError => new RunnerError('CHECKPOINT_CORRUPT', `${path}: fence record ${why}`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw bad('is not valid JSON')
  }
  const u64 = (value: unknown): bigint => {
    if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value) || BigInt(value) > U64_MAX) throw bad('has a bad u64')
    return BigInt(value)
  }
  const epochOf = (value: unknown): Epoch => {
    const e = value as { majorVersion?: unknown, leaseGeneration?: unknown } | null
    if (typeof e !== 'object' || e === null) throw bad('has a bad epoch')
    return new Epoch(u64(e.majorVersion), u64(e.leaseGeneration))
  }
  const record = json as { format?: unknown, agentId?: unknown, epoch?: unknown, fences?: unknown }
  if (typeof record !== 'object' || record === null || record.agentId !== agentId) throw bad('has the wrong shape')
  // Format 1 (issue 12): one unkeyed epoch.
  if (record.format === 1) return [{ epoch: epochOf(record.epoch), key: null, peer: null, writtenAtNs: null }]
  if (record.format !== 2 || !Array.isArray(record.fences)) throw bad('has the wrong shape')
  return record.fences.map((f: unknown) => {
    const entry = f as { epoch?: unknown, key?: unknown, peer?: unknown, writtenAtNs?: unknown } | null
    if (typeof entry !== 'object' || entry === null) throw bad('has a bad entry')
    if (entry.key !== null && (typeof entry.key !== 'string' || !/^[0-9a-f]{64}$/.test(entry.key))) throw bad('has a bad key')
    if (entry.peer !== null && typeof entry.peer !== 'string') throw bad('has a bad peer')
    return {
      epoch: epochOf(entry.epoch),
      key: entry.key,
      peer: entry.peer,
      writtenAtNs: entry.writtenAtNs === null ? null : u64(entry.writtenAtNs)
    }
  })
}
