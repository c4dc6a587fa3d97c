import { randomBytes } from 'node:crypto'
import { open, readdir, rename, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { DirectorySyncGroup } from './coalesce.js'
import { AtomicFileError, errnoOf } from './errors.js'

/** Files the node writes are private to its user. */
export const FILE_MODE = 0o600
export const DIR_MODE = 0o700
/** Every temporary ends with this; `removeStaleTemporaries` deletes them at start. */
export const TEMP_SUFFIX = '.tmp'

export interface WriteOptions {
  /** Mode of the new file (default 0600). */
  readonly mode?: number
  /** Set the mode explicitly after creating (a filesystem default might widen it; identity files ask for it). */
  readonly chmod?: boolean
}

/**
 * Replaces `<dir>/<fileName>` with `data` so that a crash at any moment leaves
 * either the old file or the new one, never a torn mix. `data` may come in
 * chunks, written in order, so a header and a large state need not be joined
 * first: temporary (`wx`) → write all → fsync → close → rename over the
 * target → fsync the directory. On failure the temporary is removed and
 * `AtomicFileError` thrown (naming the temporary, or the target at rename).
 */
export async function writeFileAtomic(dir: string, fileName: string, data: Uint8Array | readonly Uint8Array[], options: WriteOptions = {}): Promise<void> {
  const mode = options.mode ?? FILE_MODE
  const target = join(dir, fileName)
  const temp = join(dir, `${fileName}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`)
  let handle: FileHandle | undefined
  let step = 'create temporary'
  try {
    handle = await open(temp, 'wx', mode)
    if (options.chmod === true) {
      step = 'chmod'
      await handle.chmod(mode)
    }
    step = 'write'
    if (data instanceof Uint8Array) await writeAll(handle, data)
    else await writeChunks(handle, data)
    step = 'fsync'
    await handle.sync()
    step = 'close'
    await handle.close()
    handle = undefined
    step = 'rename'
    await rename(temp, target)
  } catch (error) {
    await handle?.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw new AtomicFileError(step === 'rename' ? target : temp, step, errnoOf(error), { cause: error })
  }
  // After the rename the new file is in place; only its durability is at stake.
  await fsyncDirectory(dir)
}

/** `write` may write less than asked; loop until every byte is in the file. */
async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < data.byteLength) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset)
    offset += bytesWritten
  }
}

/** One `writev` for all chunks (one syscall, like a single buffer); finishes chunk by chunk if it stops short. */
async function writeChunks(handle: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  let skip = (await handle.writev(chunks)).bytesWritten
  for (const chunk of chunks) {
    if (skip >= chunk.byteLength) {
      skip -= chunk.byteLength
      continue
    }
    await writeAll(handle, chunk.subarray(skip))
    skip = 0
  }
}

/** One fsync of `dir` by itself, shared with nobody (EINVAL/EISDIR from filesystems that refuse it are ignored). */
export async function fsyncDirectoryUnshared(dir: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (error) {
    // Some filesystems refuse fsync on a directory; nothing more can be done there.
    const errno = errnoOf(error)
    if (errno !== 'EINVAL' && errno !== 'EISDIR') throw new AtomicFileError(dir, 'directory fsync', errno, { cause: error })
  } finally {
    await handle?.close().catch(() => undefined)
  }
}

/**
 * The process's directory fsyncs, shared per directory (group commit).
 * `IGOR_NO_FSYNC_COALESCE=1` turns sharing off (for benchmarks: the same code, every caller its own fsync).
 */
export const directorySyncs = new DirectorySyncGroup(fsyncDirectoryUnshared)
const unshared = process.env.IGOR_NO_FSYNC_COALESCE === '1'

/**
 * Makes renames and unlinks inside `dir` durable (POSIX needs an fsync of the
 * directory itself): resolves after an fsync of `dir` that started after this
 * call succeeded — shared with the other callers waiting on the same
 * directory (`DirectorySyncGroup`). Call it after the operation has completed.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (unshared) return fsyncDirectoryUnshared(dir)
  return directorySyncs.sync(dir)
}

/** Deletes `*.tmp` files left in `dir` by a crash in the middle of `writeFileAtomic`; returns their names. */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (error) {
    throw new AtomicFileError(dir, 'list', errnoOf(error), { cause: error })
  }
  const removed: string[] = []
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(TEMP_SUFFIX)) continue
    try {
      await unlink(join(dir, entry.name))
      removed.push(entry.name)
    } catch (error) {
      const errno = errnoOf(error)
      if (errno !== 'ENOENT') throw new AtomicFileError(join(dir, entry.name), 'remove stale temporary', errno, { cause: error })
    }
  }
  return removed
}
