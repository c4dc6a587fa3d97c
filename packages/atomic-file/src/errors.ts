/**
 * A file operation that failed: which path, at which step (`create temporary`,
 * `write`, `fsync`, `rename`, `directory fsync`, …) and the errno code. Callers
 * turn it into their own typed error (the runner's `STORE_IO`, identity's `IO`).
 */
export class AtomicFileError extends Error {
  override readonly name = 'AtomicFileError'
  readonly code = 'IO' as const
  constructor (readonly path: string, readonly step: string, readonly errno: string, options?: { cause?: unknown }) {
    super(`${path}: ${step} failed (${errno})`, options)
  }
}

/** The errno code of a Node fs error, else its message. */
export function errnoOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code
  return error instanceof Error ? error.message : String(error)
}
