/**
 * The store's atomic writes (SPEC §5): `@igor/atomic-file`, with its failures
 * as the runner's `STORE_IO` (naming the path, the step and the errno).
 */
import * as atomic from '@igor/atomic-file'
import { storeIoError } from './fs-errors.js'

export { DIR_MODE, FILE_MODE, TEMP_SUFFIX } from '@igor/atomic-file'

function asStoreError(error: unknown): unknown {
  return error instanceof atomic.AtomicFileError ? storeIoError(error.path, error.step, error.cause ?? error) : error
}

/** Replaces `<dir>/<fileName>` with `data` (one buffer or chunks) so a crash leaves the old file or the new one. */
export async function writeFileAtomic(dir: string, fileName: string, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
  await atomic.writeFileAtomic(dir, fileName, data).catch((error: unknown) => { throw asStoreError(error) })
}

/** Makes renames and unlinks inside `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  await atomic.fsyncDirectory(dir).catch((error: unknown) => { throw asStoreError(error) })
}

/** Deletes `*.tmp` files a crash left in `dir`; returns their names. */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  return atomic.removeStaleTemporaries(dir).catch((error: unknown) => { throw asStoreError(error) })
}
