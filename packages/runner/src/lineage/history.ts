// SPEC §12 "History and `igord verify`", §11 disk quota, and (ours, issue 21
// item 2) append-only segments with retention. Format and crash states: the
// runner README, "History segments".
import { type FileHandle, mkdir, open, readFile, rmdir, readdir, stat, truncate, unlink } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import {
  PRUNED_MARKER, SEGMENT_HEADER_LENGTH, encodePrunedMarker, encodeRecordHeader, encodeSegmentHeader, segmentFileName, segmentTickOf
} from '@igor/checkpoint-codec'
import { validateAgentId } from '../store/agent-id.js'
import { DIR_MODE, FILE_MODE, fsyncDirectory, removeStaleTemporaries, writeFileAtomic } from '../store/atomic-write.js'
import { errnoCode, storeIoError } from '../store/fs-errors.js'
import { type HistoryUnit, historyFileName, listHistoryUnits, loadTicks, orderHistoryNames, readSegment, tickOf } from './history-files.js'
import { DEFAULT_HISTORY_KEEP, type HistoryKeep, segmentsToDrop } from './history-retention.js'

export { historyFileName } from './history-files.js'

/** `<checkpoints>/history`: the archive of every checkpoint the node wrote or accepted (SPEC §12). */
export const HISTORY_DIR = 'history'

/** Default `--agent-disk-quota` (SPEC §11 "Resources an agent controls"). */
export const DEFAULT_AGENT_DISK_QUOTA_BYTES = 1024 * 1024 * 1024

/** A segment is closed after an hour (≤ 24 files per agent-day) … */
export const SEGMENT_MAX_AGE_MS = 3_600_000
/** … or once it reaches this size (a quota makes it smaller: an eighth of the quota, so pruning whole segments can meet it). */
export const SEGMENT_MAX_BYTES = 256 * 1024 * 1024

/**
 * Issue 21 item 1: what this process already knows of segment files, so an
 * agent that comes back (a new `HistoryArchive` per arrival) does not read
 * and checksum its whole newest segment again on the hand-off's critical
 * path. A segment's extent is recorded when this process read it whole
 * (every record's CRC checked) or wrote it itself (each append fsynced),
 * keyed by path, and used only while the file's size is still exactly that;
 * any failed or cut-back write forgets it. A long-lived archive checks its
 * newest segment once per process the same way (`ready()` runs once), so
 * this adds no blind spot. Directories made durable here are remembered too
 * (their two fsyncs are not repeated, unless `mkdir` had to create one).
 */
const knownSegments = new Map<string, { size: number, records: number }>()
const durableDirs = new Set<string>()

/**
 * Pruning of one directory runs one at a time in this process (an archive's
 * retention or quota, the node's disk guard), so `pruned.json` only moves
 * forward; each prune bumps the directory's generation, and an archive that
 * sees a newer one drops the files gone from its list before it prunes.
 */
/**
 * The node's disk guard, short with every agent down to its newest segment, asks each agent under a
 * history root (`<checkpoints>/history`) to start a new segment at its next write when its newest began
 * before the time given, so the guard's next round can prune the one before (`requestSegmentRolls`).
 */
const rollRequests = new Map<string, number>()

/** See `rollRequests`: segments under `historyRoot` begun at or before `beforeMs` roll at their next write. */
export function requestSegmentRolls(historyRoot: string, beforeMs: number): void {
  rollRequests.set(resolve(historyRoot), beforeMs)
}

const pruneLocks = new Map<string, Promise<unknown>>()
const pruneGenerations = new Map<string, number>()

async function withPruneLock<T>(dir: string, section: () => Promise<T>): Promise<T> {
  const before = pruneLocks.get(dir) ?? Promise.resolve()
  const run = before.then(section, section)
  const settled = run.then(() => undefined, () => undefined)
  pruneLocks.set(dir, settled)
  try {
    return await run
  } finally {
    if (pruneLocks.get(dir) === settled) pruneLocks.delete(dir)
  }
}

/**
 * SPEC §12 pruning (retention, quota, the node's disk guard): names
 * `anchorTick` in `pruned.json` (durable), then deletes `units` (the oldest
 * files, never the newest), then fsyncs the directory. A crash in between
 * leaves more history than the marker says, which still verifies. Returns the
 * bytes the files held. The caller holds the directory's prune lock.
 */
async function pruneFiles(dir: string, units: readonly HistoryUnit[], anchorTick: bigint, nowMs: number): Promise<number> {
  await writeFileAtomic(dir, PRUNED_MARKER, new TextEncoder().encode(encodePrunedMarker({ anchorTick }, nowMs)))
  let bytes = 0
  for (const unit of units) {
    const path = join(dir, unit.name)
    knownSegments.delete(path)
    try {
      await unlink(path)
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw storeIoError(path, 'remove', error)
    }
    bytes += unit.size
  }
  await fsyncDirectory(dir)
  pruneGenerations.set(dir, (pruneGenerations.get(dir) ?? 0) + 1)
  return bytes
}

/**
 * The node's disk guard (`history-disk-guard.ts`): deletes `dir`'s oldest
 * files up to (not including) the file named `keepFrom`, which becomes the
 * anchor, the marker first. Re-reads the directory's names under the lock (and
 * stats only the files it deletes), so what an archive pruned meanwhile is not
 * counted twice; never deletes the newest file. Returns the files and bytes
 * deleted.
 */
export async function pruneHistoryBefore(dir: string, keepFrom: string, nowMs: number): Promise<{ files: number, bytes: number }> {
  return withPruneLock(dir, async () => {
    const names = orderHistoryNames(await readdir(dir).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return [] as string[]
      throw storeIoError(dir, 'read directory', error)
    }))
    const at = names.findIndex((u) => u.name === keepFrom)
    if (at <= 0) return { files: 0, bytes: 0 }
    const gone: HistoryUnit[] = []
    for (const { name, kind, tick } of names.slice(0, at)) {
      const size = await stat(join(dir, name)).then((st) => st.size, (error: unknown) => {
        if (errnoCode(error) === 'ENOENT') return null
        throw storeIoError(join(dir, name), 'stat', error)
      })
      if (size !== null) gone.push({ name, kind, tick, size, createdAtMs: 0 })
    }
    if (gone.length === 0) return { files: 0, bytes: 0 }
    const bytes = await pruneFiles(dir, gone, names[at]!.tick, nowMs)
    return { files: gone.length, bytes }
  })
}

/** Forgets what this process knew of `dir`'s files (tests that rewrite files behind an archive's back). */
export function forgetHistoryScans(dir?: string): void {
  if (dir === undefined) {
    knownSegments.clear()
    durableDirs.clear()
    return
  }
  durableDirs.delete(dir)
  for (const path of [...knownSegments.keys()]) if (path.startsWith(`${dir}/`)) knownSegments.delete(path)
}

export interface HistoryOptions {
  /**
   * SPEC §11: the agent's disk quota, history and its checkpoint together.
   * Over it, the oldest history files go first (the newest is always kept),
   * and `igord verify` reports from the oldest checkpoint left (the anchor).
   */
  readonly quotaBytes?: number
  /** `--history-keep` (default 7 days). */
  readonly keep?: HistoryKeep | undefined
  /** Told how many files and bytes were pruned, and why. */
  readonly onPrune?: (files: number, bytes: number, reason: 'quota' | 'retention') => void
  /** Wall-clock milliseconds (tests pass a fake one). */
  readonly nowMs?: () => number
  /** Told when a new segment was started (the node's disk guard checks free space then). */
  readonly onRoll?: () => void
  /** Overrides of the roll rules (tests, the bench). */
  readonly segmentMaxAgeMs?: number
  readonly segmentMaxBytes?: number
}

/**
 * One agent's history directory, `<checkpoints>/history/<agentId>/` (SPEC §12).
 * Every checkpoint is appended to the newest segment and fsynced before
 * `write` returns; a later record for a tick supersedes an earlier one when
 * read (a same-tick checkpoint takes its predecessor's place in the chain).
 * Whole segments are pruned by `--history-keep` and the §11 quota, oldest
 * first, the newest never; `pruned.json` names the anchor before any goes.
 */
export class HistoryArchive {
  readonly dir: string
  /** The disk guard's last roll request this archive acted on (`rollRequests`). */
  #rollHandled: number | undefined = undefined
  #ready: Promise<void> | null = null
  /** Files oldest first; the last, when a segment that reads whole, is appended to. */
  #units: HistoryUnit[] = []
  /** Records in the newest segment, or null when the next write starts a new segment. */
  #appendable: { records: number } | null = null
  /** The directory's prune generation `#units` reflects (see `pruneHistoryBefore`). */
  #generation = 0
  readonly #now: () => number

  constructor(checkpointsDir: string, agentId: string, private readonly options: HistoryOptions = {}) {
    this.dir = resolve(checkpointsDir, HISTORY_DIR, validateAgentId(agentId))
    this.#now = options.nowMs ?? Date.now
  }

  get #keep(): HistoryKeep {
    return this.options.keep ?? DEFAULT_HISTORY_KEEP
  }

  /**
   * Creates the directory (0700, durable), removes temporaries a crash left
   * behind, and repairs the newest segment: a torn tail (kill -9 mid-append)
   * is cut off; a segment that is damaged before its end is left for the
   * operator and the next write starts a new one. Once.
   */
  async ready(): Promise<void> {
    this.#ready ??= (async () => {
      let made: string | undefined
      try {
        made = await mkdir(this.dir, { recursive: true, mode: DIR_MODE })
      } catch (error) {
        this.#ready = null
        throw storeIoError(this.dir, 'create directory', error)
      }
      await removeStaleTemporaries(this.dir)
      this.#generation = pruneGenerations.get(this.dir) ?? 0
      this.#units = await listHistoryUnits(this.dir)
      this.#appendable = await this.#repairNewest()
      if (made !== undefined || !durableDirs.has(this.dir)) {
        await fsyncDirectory(this.dir)
        await fsyncDirectory(join(this.dir, '..'))
        durableDirs.add(this.dir)
      }
    })()
    return this.#ready
  }

  async #repairNewest(): Promise<{ records: number } | null> {
    const newest = this.#units[this.#units.length - 1]
    if (newest === undefined || newest.kind !== 'segment') return null
    const path = join(this.dir, newest.name)
    const known = knownSegments.get(path)
    if (known !== undefined && known.size === newest.size) return { records: known.records }
    knownSegments.delete(path)
    const parsed = await readSegment(path)
    if (parsed.corrupt !== null) return null
    if (parsed.tornTail !== null) {
      if (parsed.validLength < SEGMENT_HEADER_LENGTH) {
        // Torn while being created: nothing in it was ever acknowledged.
        await unlink(path).catch((error: unknown) => { if (errnoCode(error) !== 'ENOENT') throw storeIoError(path, 'remove', error) })
        this.#units.pop()
        return null
      }
      await truncateDurably(path, parsed.validLength)
      newest.size = parsed.validLength
    }
    knownSegments.set(path, { size: newest.size, records: parsed.records.length })
    return { records: parsed.records.length }
  }

  /**
   * Appends `bytes` (the checkpoint at `tick`) and fsyncs it: when this
   * returns, the record survives kill -9 and power loss. Then retention and
   * the quota may prune whole older segments.
   */
  async write(tick: bigint, bytes: Uint8Array): Promise<void> {
    await this.ready()
    const record = [encodeRecordHeader(bytes), bytes]
    const recordSize = record[0]!.byteLength + bytes.byteLength
    const newest = this.#units[this.#units.length - 1]
    const now = this.#now()
    if (this.#keep.kind === 'count' && newest?.kind === 'segment') await loadTicks(this.dir, newest)
    let rolled = false
    if (this.#appendable === null || newest === undefined || newest.kind !== 'segment' || this.#mustRoll(newest, tick, now)) {
      await this.#startSegment(tick, now, record, recordSize)
      rolled = true
    } else {
      await this.#append(newest, record, recordSize)
    }
    const current = this.#units[this.#units.length - 1]!
    if (current.ticks !== undefined) current.ticks.add(tick)
    this.#appendable!.records++
    if (current.kind === 'segment') knownSegments.set(join(this.dir, current.name), { size: current.size, records: this.#appendable!.records })
    if (rolled || this.options.quotaBytes !== undefined) await this.#syncPruned()
    if (rolled) await this.#pruneRetention(now)
    if (this.options.quotaBytes !== undefined) await this.#pruneQuota(this.options.quotaBytes, bytes.byteLength)
    if (rolled) this.options.onRoll?.()
  }

  /** Drops from `#units` the files another pruner (the node's disk guard) deleted since; one readdir, only when one did. */
  async #syncPruned(): Promise<void> {
    const generation = pruneGenerations.get(this.dir) ?? 0
    if (generation === this.#generation) return
    const names = new Set(await readdir(this.dir).catch((error: unknown) => { throw storeIoError(this.dir, 'read directory', error) }))
    const newest = this.#units[this.#units.length - 1]
    this.#units = this.#units.filter((u) => u === newest || names.has(u.name))
    this.#generation = generation
  }

  #mustRoll(newest: HistoryUnit, tick: bigint, now: number): boolean {
    const maxAge = this.options.segmentMaxAgeMs ?? SEGMENT_MAX_AGE_MS
    let maxBytes = this.options.segmentMaxBytes ?? SEGMENT_MAX_BYTES
    if (this.options.quotaBytes !== undefined) maxBytes = Math.min(maxBytes, Math.floor(this.options.quotaBytes / 8))
    if (newest.size >= maxBytes || now - newest.createdAtMs >= maxAge || now < newest.createdAtMs - maxAge) return true
    // The disk guard found nothing left to prune: a new segment makes this one prunable.
    const rollBefore = rollRequests.get(resolve(dirname(this.dir)))
    // Once per request, so a wall clock stepped back cannot make every write start a segment.
    if (rollBefore !== undefined && rollBefore !== this.#rollHandled && newest.createdAtMs <= rollBefore) {
      this.#rollHandled = rollBefore
      return true
    }
    // Count mode: about two segments per kept window (in distinct ticks), so pruning whole segments keeps it near N.
    const keep = this.#keep
    return keep.kind === 'count' && newest.ticks?.has(tick) !== true && (newest.ticks?.size ?? 0) >= Math.max(1, Math.ceil(keep.count / 2))
  }

  async #startSegment(tick: bigint, now: number, record: Uint8Array[], recordSize: number): Promise<void> {
    // Names stay in write order: never at or below the newest segment's tick.
    const last = [...this.#units].reverse().find((u) => u.kind === 'segment')
    const nameTick = last !== undefined && tick <= last.tick ? last.tick + 1n : tick
    const name = segmentFileName(nameTick)
    const path = join(this.dir, name)
    const header = encodeSegmentHeader(now)
    const handle = await open(path, 'wx', FILE_MODE).catch((error: unknown) => { throw storeIoError(path, 'create', error) })
    try {
      await writeAll(handle, [header, ...record], path)
      await handle.sync().catch((error: unknown) => { throw storeIoError(path, 'fsync', error) })
    } catch (error) {
      await handle.close().catch(() => undefined)
      // Nothing of it was acknowledged: it goes (a leftover is repaired at the next open anyway).
      await unlink(path).catch(() => undefined)
      throw error
    }
    await handle.close()
    await fsyncDirectory(this.dir)
    this.#units.push({ name, kind: 'segment', tick: nameTick, size: header.byteLength + recordSize, createdAtMs: now, ticks: this.#keep.kind === 'count' ? new Set() : undefined })
    this.#appendable = { records: 0 }
  }

  async #append(unit: HistoryUnit, record: Uint8Array[], recordSize: number): Promise<void> {
    const path = join(this.dir, unit.name)
    const handle = await open(path, 'a').catch((error: unknown) => { throw storeIoError(path, 'open', error) })
    try {
      await writeAll(handle, record, path)
      await handle.datasync().catch((error: unknown) => { throw storeIoError(path, 'fsync', error) })
    } catch (error) {
      await handle.close().catch(() => undefined)
      // A partial record must not sit before the next one: cut it off, and append to a new segment next time.
      knownSegments.delete(path)
      await truncate(path, unit.size).catch(() => undefined)
      this.#appendable = null
      throw error
    }
    await handle.close()
    unit.size += recordSize
  }

  async #pruneRetention(now: number): Promise<void> {
    const keep = this.#keep
    if (keep.kind === 'all' || this.#units.length < 2) return
    if (keep.kind === 'count') for (const unit of this.#units) await loadTicks(this.dir, unit)
    const drop = segmentsToDrop(this.#units.map((u) => ({ name: u.name, createdAtMs: u.createdAtMs, ticks: u.ticks })), keep, now)
    if (drop > 0) await this.#dropOldest(drop, 'retention', now)
  }

  /** SPEC §11: history plus the checkpoint beside it (about the newest record's size) within the quota. */
  async #pruneQuota(quota: number, checkpointSize: number): Promise<void> {
    let total = checkpointSize
    for (const unit of this.#units) total += unit.size
    let drop = 0
    while (total > quota && drop < this.#units.length - 1) total -= this.#units[drop++]!.size
    if (drop > 0) await this.#dropOldest(drop, 'quota', this.#now())
  }

  /**
   * Names the new anchor (the file now at index `count`) in `pruned.json`
   * (durable), then deletes the files before it — under the directory's prune
   * lock, after dropping what the disk guard deleted meanwhile (nothing, when
   * it already pruned past the anchor).
   */
  async #dropOldest(count: number, reason: 'quota' | 'retention', now: number): Promise<void> {
    const anchor = this.#units[count]!
    const gone = await withPruneLock(this.dir, async () => {
      await this.#syncPruned()
      const at = this.#units.indexOf(anchor)
      if (at <= 0) return null
      const units = this.#units.splice(0, at)
      const bytes = await pruneFiles(this.dir, units, anchor.tick, now)
      this.#generation = pruneGenerations.get(this.dir) ?? 0
      return { files: units.length, bytes }
    })
    if (gone !== null) this.options.onPrune?.(gone.files, gone.bytes, reason)
  }

  /** Bytes the history holds now. */
  async usedBytes(): Promise<number> {
    await this.ready()
    return this.#units.reduce((sum, unit) => sum + unit.size, 0)
  }

  /**
   * The newest archived bytes for `tick` among the newest segment's records,
   * else the reference file `<tick>.ckpt`; null when neither holds it. (Used
   * to check that the stored checkpoint — always the newest — is archived.)
   */
  async read(tick: bigint): Promise<Uint8Array | null> {
    // Names only (no stat or header reads): an agent's start must not cost a pass over a week of segments.
    const names = await readdir(this.dir).catch((error: unknown) => {
      const code = errnoCode(error)
      if (code === 'ENOENT' || code === 'ENOTDIR') return [] as string[]
      throw storeIoError(this.dir, 'read directory', error)
    })
    let newest: { name: string, tick: bigint } | null = null
    for (const name of names) {
      const at = segmentTickOf(name)
      if (at !== null && (newest === null || at > newest.tick)) newest = { name, tick: at }
    }
    if (newest !== null) {
      const records = (await readSegment(join(this.dir, newest.name))).records
      for (let i = records.length - 1; i >= 0; i--) if (tickOf(records[i]!.payload) === tick) return records[i]!.payload
    }
    try {
      return new Uint8Array(await readFile(join(this.dir, historyFileName(tick))))
    } catch (error) {
      const code = errnoCode(error)
      if (code === 'ENOENT' || code === 'ENOTDIR') return null
      throw storeIoError(join(this.dir, historyFileName(tick)), 'read', error)
    }
  }

  /**
   * What the archive holds now, and a function that puts exactly that back
   * (SPEC §7 target 4: a refused arrival leaves nothing behind): segments
   * started since are deleted and the newest is cut back to its size. Only
   * for an agent that is not running (no other writer in between).
   */
  async capture(_tick: bigint): Promise<() => Promise<void>> {
    const before = await listHistoryUnits(this.dir)
    const names = new Set(before.map((u) => u.name))
    const newest = before[before.length - 1]
    return async () => {
      // What this process knew of the files is forgotten: the next archive reads them again.
      forgetHistoryScans(this.dir)
      for (const unit of await listHistoryUnits(this.dir)) {
        if (!names.has(unit.name)) await unlink(join(this.dir, unit.name)).catch((error: unknown) => { if (errnoCode(error) !== 'ENOENT') throw storeIoError(join(this.dir, unit.name), 'remove', error) })
      }
      if (newest?.kind === 'segment') await truncateDurably(join(this.dir, newest.name), newest.size)
      await fsyncDirectory(this.dir).catch(() => undefined)
      this.#ready = null
      // A directory this arrival created stays only if something else is in it.
      const left = await readdir(this.dir).catch(() => null)
      if (left !== null && left.length === 0) await rmdir(this.dir).catch(() => undefined)
    }
  }
}

/** `writev` of every byte, or STORE_IO (a short write, e.g. a full disk, is a failure: the caller cuts it off). */
async function writeAll(handle: FileHandle, buffers: Uint8Array[], path: string): Promise<void> {
  const total = buffers.reduce((sum, b) => sum + b.byteLength, 0)
  const { bytesWritten } = await handle.writev(buffers).catch((error: unknown) => { throw storeIoError(path, 'write', error) })
  if (bytesWritten !== total) throw storeIoError(path, 'write', new Error(`short write: ${bytesWritten} of ${total} bytes`))
}

async function truncateDurably(path: string, size: number): Promise<void> {
  const handle = await open(path, 'r+').catch((error: unknown) => { throw storeIoError(path, 'open', error) })
  try {
    await handle.truncate(size)
    await handle.sync()
  } catch (error) {
    throw storeIoError(path, 'truncate', error)
  } finally {
    await handle.close()
  }
}
