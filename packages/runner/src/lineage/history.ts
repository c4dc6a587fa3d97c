import { mkdir, readFile, readdir, rmdir, unlink } from 'node:fs/promises'
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

/**
 * One agent's history directory, `<checkpoints>/history/<agentId>/` (SPEC §12).
 * Files are written atomically; a file for a tick is replaced by a later
 * checkpoint at the same tick (which takes its place in the chain).
 */
export class HistoryArchive {
  readonly dir: string
  #ready: Promise<void> | null = null

  constructor(checkpointsDir: string, agentId: string) {
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
