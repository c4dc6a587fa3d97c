import { mkdir, readFile, readdir, rmdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { validateAgentId } from '../store/agent-id.js'
import { DIR_MODE, fsyncDirectory, removeStaleTemporaries, writeFileAtomic } from '../store/atomic-write.js'
import { errnoCode, storeIoError } from '../store/fs-errors.js'

/** `<checkpoints>/history`: the archive of every checkpoint the node wrote or accepted (SPEC §12). */
export const HISTORY_DIR = 'history'

/** `<tick %010d>.ckpt`, the reference's file name. */
export function historyFileName(tick: bigint): string {
  return `${tick.toString().padStart(10, '0')}.ckpt`
}

/** Default `--agent-disk-quota` (SPEC §11 "Resources an agent controls"). */
export const DEFAULT_AGENT_DISK_QUOTA_BYTES = 1024 * 1024 * 1024

export interface HistoryOptions {
  /**
   * SPEC §11: the agent's disk quota, history and its checkpoint together.
   * Over it, the oldest history files go first (the newest is always kept),
   * and `igord verify` reports from the oldest file left (the anchor).
   */
  readonly quotaBytes?: number
  /** Told how many files and bytes a write pruned. */
  readonly onPrune?: (files: number, bytes: number) => void
}

/**
 * One agent's history directory, `<checkpoints>/history/<agentId>/` (SPEC §12).
 * Files are written atomically; a file for a tick is replaced by a later
 * checkpoint at the same tick (which takes its place in the chain).
 */
export class HistoryArchive {
  readonly dir: string
  #ready: Promise<void> | null = null
  /** Files oldest first with their sizes, once a quota needs them (read from the directory once). */
  #usage: { files: Array<{ name: string, size: number }>, total: number } | null = null

  constructor(checkpointsDir: string, agentId: string, private readonly options: HistoryOptions = {}) {
    this.dir = join(checkpointsDir, HISTORY_DIR, validateAgentId(agentId))
  }

  /** Creates the directory (0700, durable) and removes temporaries a crash left behind; once. */
  async ready(): Promise<void> {
    this.#ready ??= (async () => {
      try {
        await mkdir(this.dir, { recursive: true, mode: DIR_MODE })
      } catch (error) {
        this.#ready = null
        throw storeIoError(this.dir, 'create directory', error)
      }
      await removeStaleTemporaries(this.dir)
      await fsyncDirectory(this.dir)
      await fsyncDirectory(join(this.dir, '..'))
    })()
    return this.#ready
  }

  async write(tick: bigint, bytes: Uint8Array): Promise<void> {
    await this.ready()
    await writeFileAtomic(this.dir, historyFileName(tick), bytes)
    if (this.options.quotaBytes !== undefined) await this.#account(historyFileName(tick), bytes.byteLength, this.options.quotaBytes)
  }

  /** Bytes the history holds now (reads the directory once). */
  async usedBytes(): Promise<number> {
    return (await this.#loadUsage()).total
  }

  /**
   * SPEC §11 quota: the file just written counts (replacing one of the same
   * name), the checkpoint beside it counts as that file's size again, and the
   * oldest files go until both fit. The newest file always stays.
   */
  async #account(name: string, size: number, quota: number): Promise<void> {
    const usage = await this.#loadUsage()
    const existing = usage.files.findIndex((f) => f.name === name)
    if (existing >= 0) {
      usage.total -= usage.files[existing]!.size
      usage.files.splice(existing, 1)
    }
    // Names sort as ticks (zero-padded); a write is almost always the newest.
    let at = usage.files.length
    while (at > 0 && usage.files[at - 1]!.name > name) at--
    usage.files.splice(at, 0, { name, size })
    usage.total += size
    let files = 0
    let bytes = 0
    while (usage.total + size > quota && usage.files.length > 1 && usage.files[0]!.name !== name) {
      const oldest = usage.files.shift()!
      usage.total -= oldest.size
      try {
        await unlink(join(this.dir, oldest.name))
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw storeIoError(join(this.dir, oldest.name), 'remove', error)
      }
      files++
      bytes += oldest.size
    }
    if (files > 0) {
      await fsyncDirectory(this.dir)
      this.options.onPrune?.(files, bytes)
    }
  }

  async #loadUsage(): Promise<{ files: Array<{ name: string, size: number }>, total: number }> {
    if (this.#usage !== null) return this.#usage
    const names = (await readdir(this.dir).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return [] as string[]
      throw storeIoError(this.dir, 'read directory', error)
    })).filter((n) => n.endsWith('.ckpt')).sort()
    const files: Array<{ name: string, size: number }> = []
    let total = 0
    for (const name of names) {
      const size = await stat(join(this.dir, name)).then((st) => st.size, () => 0)
      files.push({ name, size })
      total += size
    }
    this.#usage ??= { files, total }
    return this.#usage
  }

  /** The archived bytes for `tick`, or null. */
  async read(tick: bigint): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(join(this.dir, historyFileName(tick))))
    } catch (error) {
      const code = errnoCode(error)
      if (code === 'ENOENT' || code === 'ENOTDIR') return null
      throw storeIoError(join(this.dir, historyFileName(tick)), 'read', error)
    }
  }

  /**
   * What the archive holds for `tick` now, and a function that puts exactly
   * that back (SPEC §7 target 4: a refused arrival leaves nothing behind).
   */
  async capture(tick: bigint): Promise<() => Promise<void>> {
    const prior = await this.read(tick)
    return async () => {
      if (prior !== null) {
        await this.write(tick, prior)
        return
      }
      try {
        await unlink(join(this.dir, historyFileName(tick)))
        await fsyncDirectory(this.dir)
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw storeIoError(join(this.dir, historyFileName(tick)), 'remove', error)
      }
      // A directory this arrival created stays only if something else is in it.
      const left = await readdir(this.dir).catch(() => null)
      if (left !== null && left.length === 0) await rmdir(this.dir).catch(() => undefined)
    }
  }
}
