// SPEC §12 history (kept verifiable), §11 disk (ours, issue 21 "done means":
// a 10 000-agent node runs a week without filling its disk). When free space
// on the data directory's filesystem falls below a watermark, the node prunes
// the globally oldest history segments across all its agents — never an
// agent's newest file, never a checkpoint, authority or receipts file (they
// are not in `history/`) — each agent's `pruned.json` first, until free space
// is back above the watermark plus a quarter of it. Checked by `statfs` on a
// timer and when a segment rolls; the directory walk only when pruning.
import { open, readdir, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { parseHistorySegment } from '@igor/checkpoint-codec'
import { type Logger, silentLogger } from '@igor/sandbox'
import { errnoCode } from '../store/fs-errors.js'
import { HISTORY_DIR, pruneHistoryBefore, requestSegmentRolls } from './history.js'
import { orderHistoryNames } from './history-files.js'

/** `--history-min-free`: a size, a percentage of the filesystem, the default (`auto`), or off. */
export type HistoryMinFree =
  | { readonly kind: 'auto' }
  | { readonly kind: 'off' }
  | { readonly kind: 'bytes', readonly bytes: number }
  | { readonly kind: 'percent', readonly percent: number }

/** What the guard needs of `fs.statfs` (tests and `IGOR_TEST_STATFS_FREE` pass another). */
export type StatfsProbe = (path: string) => Promise<{ readonly bsize: number, readonly blocks: number, readonly bavail: number }>

/** `auto`: the larger of this many times `--min-free-disk` … */
export const AUTO_MIN_FREE_FACTOR = 4
/** … and this percentage of the filesystem. */
export const AUTO_MIN_FREE_PERCENT = 5
/** Default check interval. */
export const DISK_GUARD_INTERVAL_MS = 30_000
/** Agents pruned at once in a round. */
const PRUNE_CONCURRENCY = 4
/** A segment roll checks at most this often. */
const POKE_MIN_INTERVAL_MS = 1_000

/** The watermark in bytes for a filesystem of `totalBytes` (0: off). */
export function historyMinFreeBytes(minFree: HistoryMinFree, totalBytes: number, minFreeDiskBytes: number): number {
  switch (minFree.kind) {
    case 'off': return 0
    case 'bytes': return minFree.bytes
    case 'percent': return Math.ceil(totalBytes * minFree.percent / 100)
    case 'auto': return Math.max(AUTO_MIN_FREE_FACTOR * minFreeDiskBytes, Math.ceil(totalBytes * AUTO_MIN_FREE_PERCENT / 100))
  }
}

export function describeHistoryMinFree(minFree: HistoryMinFree): string {
  switch (minFree.kind) {
    case 'off': return 'off'
    case 'bytes': return `${minFree.bytes} bytes`
    case 'percent': return `${minFree.percent}%`
    case 'auto': return `auto (max(${AUTO_MIN_FREE_FACTOR} × --min-free-disk, ${AUTO_MIN_FREE_PERCENT}% of the filesystem))`
  }
}

export interface HistoryDiskGuardOptions {
  /** `<data-dir>/checkpoints`: its filesystem is probed, its `history/` pruned. */
  readonly checkpointsDir: string
  readonly minFree?: HistoryMinFree | undefined
  /** `--min-free-disk` (for `auto`). */
  readonly minFreeDiskBytes: number
  readonly statfs?: StatfsProbe | undefined
  /** Agents not to touch now (an arrival in progress). */
  readonly skip?: (agentId: string) => boolean
  readonly log?: Logger
  readonly nowMs?: () => number
  readonly intervalMs?: number | undefined
  /** Told after each round that deleted something. */
  readonly onPrune?: (bytes: number, files: number, agents: number) => void
}

/** One round's outcome (`check()`). */
export interface DiskGuardRound {
  readonly freeBytes: number
  readonly watermarkBytes: number
  readonly prunedBytes: number
  readonly prunedFiles: number
  readonly agents: number
  /** True when every agent is down to its newest file and free space is still short. */
  readonly short: boolean
}

/** Shown by `igord status` while free space stays below the watermark with nothing left to prune. */
export interface DiskShortage {
  readonly freeBytes: number
  readonly watermarkBytes: number
  readonly sinceMs: number
}

/** One agent's prunable files, oldest first (its newest is never among them). */
interface Cursor {
  readonly agentId: string
  readonly dir: string
  /** File names in history order; the last is never pruned. */
  readonly names: readonly string[]
  /** Index of the next candidate. */
  next: number
  /** The candidate's start time. */
  createdAtMs: number
}

/**
 * The node-wide history disk guard (see the file comment). `start()` arms the
 * timer, `poke()` is called when a segment rolls, `check()` runs one round
 * (rounds never overlap), `stop()` waits for a round in progress.
 */
export class HistoryDiskGuard {
  readonly #options: HistoryDiskGuardOptions
  readonly #statfs: StatfsProbe
  readonly #log: Logger
  readonly #now: () => number
  #timer: NodeJS.Timeout | null = null
  #round: Promise<DiskGuardRound | null> | null = null
  #lastCheckMs = -Infinity
  #shortage: DiskShortage | null = null
  /** Segment rolls since the last walk that found nothing to prune (each makes one file prunable). */
  #rolls = 0
  #stopped = false

  constructor(options: HistoryDiskGuardOptions) {
    this.#options = options
    this.#statfs = options.statfs ?? ((path) => statfs(path))
    this.#log = options.log ?? silentLogger
    this.#now = options.nowMs ?? Date.now
  }

  get enabled(): boolean {
    return (this.#options.minFree ?? { kind: 'auto' }).kind !== 'off'
  }

  /** Free space short with nothing left to prune, or null. */
  get shortage(): DiskShortage | null {
    return this.#shortage
  }

  start(): void {
    if (!this.enabled || this.#timer !== null || this.#stopped) return
    this.#timer = setInterval(() => { this.#background() }, this.#options.intervalMs ?? DISK_GUARD_INTERVAL_MS)
    this.#timer.unref()
    this.#background()
  }

  /** A segment rolled: check soon (at most once a second). */
  poke(): void {
    this.#rolls++
    if (!this.enabled || this.#stopped || this.#now() - this.#lastCheckMs < POKE_MIN_INTERVAL_MS) return
    this.#background()
  }

  /** Stops the timer; a round in progress finishes the agent it is pruning and stops there. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    await this.#round?.catch(() => undefined)
  }

  #background(): void {
    this.check().catch((error: unknown) => {
      this.#log.warn({ err: (error as Error).message }, 'history disk guard: a round failed; the next one tries again')
    })
  }

  /** One round: probe; when below the watermark, prune the oldest history until above it plus a quarter. */
  async check(): Promise<DiskGuardRound | null> {
    if (!this.enabled) return null
    this.#round ??= this.#check().finally(() => { this.#round = null })
    return this.#round
  }

  async #check(): Promise<DiskGuardRound | null> {
    this.#lastCheckMs = this.#now()
    const fs = await this.#statfs(this.#options.checkpointsDir)
    const freeBytes = Number(fs.bavail) * Number(fs.bsize)
    const watermarkBytes = historyMinFreeBytes(this.#options.minFree ?? { kind: 'auto' }, Number(fs.blocks) * Number(fs.bsize), this.#options.minFreeDiskBytes)
    const quiet: DiskGuardRound = { freeBytes, watermarkBytes, prunedBytes: 0, prunedFiles: 0, agents: 0, short: false }
    if (this.#stopped) return quiet
    if (freeBytes >= watermarkBytes) {
      if (this.#shortage !== null) this.#log.info({ freeBytes, watermarkBytes }, 'free disk back above --history-min-free')
      this.#shortage = null
      return quiet
    }
    // Still short with nothing to prune: walk again only once a segment rolled (a new file became prunable).
    if (this.#shortage !== null && this.#rolls === 0) return { ...quiet, short: true }
    this.#rolls = 0
    const need = watermarkBytes + Math.ceil(watermarkBytes / 4) - freeBytes
    const { plan, planned, exhausted } = await this.#plan(need)
    let prunedBytes = 0
    let prunedFiles = 0
    let agents = 0
    // A few agents at a time: each is a marker write, unlinks and directory fsyncs, which overlap across directories.
    const work = [...plan]
    const worker = async (): Promise<void> => {
      // A node shutting down does not wait for the rest of a long round (what is left is pruned after the next start).
      for (let next = work.shift(); next !== undefined && !this.#stopped; next = work.shift()) {
        const [cursor, keepFrom] = next
        if (this.#options.skip?.(cursor.agentId) === true) continue
        const done = await pruneHistoryBefore(cursor.dir, keepFrom, this.#now())
        if (done.files === 0) continue
        prunedBytes += done.bytes
        prunedFiles += done.files
        agents++
      }
    }
    await Promise.all(Array.from({ length: PRUNE_CONCURRENCY }, worker))
    if (prunedFiles > 0) {
      this.#log.info({ bytes: prunedBytes, files: prunedFiles, agents, freeBytes, watermarkBytes }, 'history pruned to keep free disk (oldest segments across all agents first)')
      this.#options.onPrune?.(prunedBytes, prunedFiles, agents)
    }
    const short = exhausted && planned < need
    // Every agent is down to its newest segment: each starts a new one at its next write, so the next
    // round (woken by those rolls) can prune the one before. History then spans about one round.
    if (short) requestSegmentRolls(join(this.#options.checkpointsDir, HISTORY_DIR), this.#now())
    if (short && this.#shortage === null) {
      this.#shortage = { freeBytes, watermarkBytes, sinceMs: this.#now() }
      this.#log.warn({ freeBytes, watermarkBytes }, 'free disk below --history-min-free and every agent\'s history is down to its newest segment: each agent starts a new segment so the next round can prune the last one; checkpoints go on; add disk, lower --history-min-free or move agents away')
    } else if (!short) {
      this.#shortage = null
    }
    return { freeBytes, watermarkBytes, prunedBytes, prunedFiles, agents, short }
  }

  /**
   * The files to delete, globally oldest first by start time, until `need`
   * bytes: per agent, the name of the first file to keep. A k-way merge over
   * the agents' directories (each already in write order), so only the files
   * chosen (and one more per agent) are opened.
   */
  async #plan(need: number): Promise<{ plan: Map<Cursor, string>, planned: number, exhausted: boolean }> {
    const root = join(this.#options.checkpointsDir, HISTORY_DIR)
    const agentIds = await readdir(root).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [] as string[]
      throw error
    })
    const heap = new MinHeap<Cursor>((a, b) => a.createdAtMs - b.createdAtMs)
    for (const agentId of agentIds) {
      if (this.#stopped) break
      if (this.#options.skip?.(agentId) === true) continue
      const dir = join(root, agentId)
      const names = orderHistoryNames(await readdir(dir).catch(() => [] as string[])).map((u) => u.name)
      if (names.length < 2) continue
      const cursor: Cursor = { agentId, dir, names, next: 0, createdAtMs: 0 }
      if (await this.#advance(cursor)) heap.push(cursor)
    }
    const plan = new Map<Cursor, string>()
    let planned = 0
    while (planned < need) {
      const cursor = heap.pop()
      if (cursor === undefined) return { plan, planned, exhausted: true }
      planned += await fileBytes(join(cursor.dir, cursor.names[cursor.next]!))
      cursor.next++
      plan.set(cursor, cursor.names[cursor.next]!)
      if (cursor.next < cursor.names.length - 1 && await this.#advance(cursor)) heap.push(cursor)
    }
    return { plan, planned, exhausted: false }
  }

  /** Reads the start time of the cursor's candidate (false when none is left to prune). */
  async #advance(cursor: Cursor): Promise<boolean> {
    while (cursor.next < cursor.names.length - 1) {
      const at = await startedAt(join(cursor.dir, cursor.names[cursor.next]!))
      if (at !== null) {
        cursor.createdAtMs = at
        return true
      }
      cursor.next++ // gone meanwhile
    }
    return false
  }
}

/** A segment's header time, a `.ckpt` file's mtime; null when the file is gone. */
async function startedAt(path: string): Promise<number | null> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null
    throw error
  }
  try {
    const st = await handle.stat()
    if (path.endsWith('.ckpt')) return st.mtimeMs
    const head = new Uint8Array(24)
    const { bytesRead } = await handle.read(head, 0, 24, 0)
    return parseHistorySegment(head.subarray(0, bytesRead)).createdAtMs ?? st.mtimeMs
  } finally {
    await handle.close()
  }
}

/** Blocks a file holds (what deleting it frees), else its size; 0 when gone. */
async function fileBytes(path: string): Promise<number> {
  try {
    const st = await stat(path)
    return st.blocks > 0 ? st.blocks * 512 : st.size
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0
    throw error
  }
}

/** A binary min-heap (the merge over 10 000 agents' directories). */
class MinHeap<T> {
  readonly #items: T[] = []
  constructor(private readonly less: (a: T, b: T) => number) {}

  push(item: T): void {
    const items = this.#items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.less(items[i]!, items[parent]!) >= 0) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): T | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (items.length === 0 || last === undefined) return top
    items[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && this.less(items[l]!, items[m]!) < 0) m = l
      if (r < items.length && this.less(items[r]!, items[m]!) < 0) m = r
      if (m === i) return top
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
  }
}
