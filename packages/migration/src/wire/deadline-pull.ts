import type { Uint8ArrayList } from 'uint8arraylist'
import { MigrationError, describeCause } from '../errors.js'

/**
 * Pulls chunks from a stream until a deadline or an abort (SPEC §7 target 1:
 * a silent or slow peer cannot hold the reader). One pending "stop" at a time:
 * the timer or the signal rejects whichever `next()` is outstanding.
 * `arrived()` is read for the timeout's message. `close()` in a `finally`.
 */
export function deadlinePull(
  source: AsyncIterable<Uint8ArrayList | Uint8Array>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  arrived: () => number
): { next: () => Promise<IteratorResult<Uint8ArrayList | Uint8Array>>, close: () => void } {
  const iterator = source[Symbol.asyncIterator]()
  let stopped: MigrationError | undefined
  let interrupt: ((err: MigrationError) => void) | undefined
  const stop = (err: MigrationError): void => {
    stopped ??= err
    interrupt?.(stopped)
  }
  const timer = setTimeout(() => stop(new MigrationError('TRANSFER_TIMEOUT', `read: no complete message within ${timeoutMs} ms (${arrived()} bytes arrived)`)), timeoutMs)
  const onAbort = (): void => stop(new MigrationError('TRANSFER_ABORTED', 'read: aborted'))
  signal?.addEventListener('abort', onAbort)
  const next = (): Promise<IteratorResult<Uint8ArrayList | Uint8Array>> =>
    new Promise((resolve, reject) => {
      if (stopped !== undefined) {
        reject(stopped)
        return
      }
      interrupt = reject
      iterator.next().then(resolve, (err: unknown) => {
        reject(err instanceof MigrationError ? err : new MigrationError('STREAM_FAILED', `read: stream failed: ${describeCause(err)}`, { cause: err }))
      })
    })
  const close = (): void => {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    interrupt = undefined
    // Not awaited: a generator still inside next() only returns after it.
    iterator.return?.().catch(() => {})
  }
  return { next, close }
}
