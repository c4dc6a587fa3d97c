import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MigrationError, describeCause } from '../errors.js'
import { deadlinePull } from './deadline-pull.js'
import { JsonObjectScanner } from './json-scanner.js'

export interface ReadJsonOptions {
  /** Largest message accepted, in bytes (leading whitespace included). */
  maxBytes: number
  /** Time allowed for the whole message, from the call. */
  timeoutMs: number
  /** Stops the read early with `TRANSFER_ABORTED`. */
  signal?: AbortSignal
}

/**
 * Reads one JSON object from a stream source (SPEC §7 target step 1: a
 * bounded read). Returns exactly the object's bytes as soon as its closing
 * brace arrives — the peer may keep the stream open — and stops reading
 * (anything after the object is dropped and the source is `return()`ed).
 *
 * Refusals, all `MigrationError`:
 * `TRANSFER_TOO_LARGE` as soon as `maxBytes` have arrived without a complete
 * object (nothing beyond the cap is buffered); `TRANSFER_TIMEOUT` when the
 * object is not complete within `timeoutMs`, even if the source never yields
 * again; `TRANSFER_EMPTY` on end of stream with nothing but whitespace;
 * `TRANSFER_TRUNCATED` on end of stream mid-object; `BAD_TRANSFER` when the
 * first non-whitespace byte is not `{`; `TRANSFER_ABORTED` when `signal`
 * fires; `STREAM_FAILED` when the source throws.
 *
 * On any refusal the caller should `stream.abort(err)`: an async generator
 * blocked in `next()` cannot be ended from here, only abandoned.
 */
export async function readJsonMessage(
  source: AsyncIterable<Uint8ArrayList | Uint8Array>,
  options: ReadJsonOptions
): Promise<Uint8Array> {
  const { maxBytes, timeoutMs, signal } = options
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`)
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`)
  if (signal?.aborted === true) throw new MigrationError('TRANSFER_ABORTED', 'read: aborted before start')

  const scanner = new JsonObjectScanner()
  const chunks: Uint8Array[] = []
  let total = 0

  const pull = deadlinePull(source, timeoutMs, signal, () => total)
  const next = pull.next

  try {
    for (;;) {
      const result = await next()
      if (result.done === true) {
        if (!scanner.sawContent) throw new MigrationError('TRANSFER_EMPTY', 'read: stream ended before a message arrived')
        throw new MigrationError('TRANSFER_TRUNCATED', `read: stream ended mid-message after ${total} bytes`)
      }
      const value = result.value
      const bufs: Iterable<Uint8Array> = value instanceof Uint8Array ? [value] : value
      for (const buf of bufs) {
        const room = maxBytes - total
        const end = scanner.feed(buf, Math.min(buf.length, room))
        if (end === -2) throw new MigrationError('BAD_TRANSFER', 'read: message does not start with a JSON object')
        if (end >= 0) {
          chunks.push(buf.subarray(0, end))
          total += end
          return concat(chunks, total)
        }
        if (buf.length > room) throw new MigrationError('TRANSFER_TOO_LARGE', `read: message exceeds ${maxBytes} bytes`)
        chunks.push(buf)
        total += buf.length
      }
    }
  } finally {
    pull.close()
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

export interface WriteMessageOptions {
  /** Time allowed to hand all bytes to the muxer (a peer that stops reading stalls the window). */
  timeoutMs?: number
  /** Stops the write early with `TRANSFER_ABORTED`. */
  signal?: AbortSignal
  /** Told the running total of bytes the stream has taken, after each chunk (progress display). */
  onProgress?: (sent: number) => void
}

/**
 * Bytes handed to the stream per sink step (subarrays, no copy). yamux cuts
 * its own 64 KiB frames and waits for window updates inside one step, so the
 * chunk size only sets per-step overhead: measured on loopback, 64 KiB steps
 * cost ~15-50 % more time than 1 MiB steps or one whole buffer, which tie.
 * 1 MiB keeps a `closeWrite()` racing the write from waiting on one huge step.
 */
export const WRITE_CHUNK_BYTES = 1024 * 1024

/**
 * Writes one whole message and half-closes the stream: in js-libp2p 2.x
 * `stream.sink()` sends the FIN itself when its source ends (a later
 * `closeWrite()` is a no-op), and a stream can be sunk only once.
 *
 * On timeout or abort the stream is aborted and `TRANSFER_TIMEOUT` /
 * `TRANSFER_ABORTED` thrown; a failing stream throws `STREAM_FAILED`.
 */
export async function writeMessage(
  stream: Pick<Stream, 'sink' | 'abort'>,
  message: Uint8Array | readonly Uint8Array[],
  options: WriteMessageOptions = {}
): Promise<void> {
  // SPEC §7 2.0.0: a message may be several parts (header, sections), written as they are, never joined.
  const parts: readonly Uint8Array[] = message instanceof Uint8Array ? [message] : message
  let length = 0
  for (const part of parts) length += part.byteLength
  const { timeoutMs, signal } = options
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`)
  }
  if (signal?.aborted === true) throw new MigrationError('TRANSFER_ABORTED', 'write: aborted before start')

  let stopped: MigrationError | undefined
  let interrupt: ((err: MigrationError) => void) | undefined
  const stop = (err: MigrationError): void => {
    if (stopped !== undefined) return
    stopped = err
    stream.abort(err)
    interrupt?.(err)
  }
  const timer = timeoutMs === undefined
    ? undefined
    : setTimeout(() => stop(new MigrationError('TRANSFER_TIMEOUT', `write: ${length} bytes not sent within ${timeoutMs} ms`)), timeoutMs)
  const onAbort = (): void => stop(new MigrationError('TRANSFER_ABORTED', 'write: aborted'))
  signal?.addEventListener('abort', onAbort)

  try {
    await new Promise<void>((resolve, reject) => {
      interrupt = reject
      stream.sink(chunksOf(parts, options.onProgress)).then(
        () => (stopped === undefined ? resolve() : reject(stopped)),
        (err: unknown) => reject(stopped ?? new MigrationError('STREAM_FAILED', `write: stream failed: ${describeCause(err)}`, { cause: err }))
      )
    })
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

function * chunksOf(parts: readonly Uint8Array[], onProgress?: (sent: number) => void): Generator<Uint8Array> {
  let sent = 0
  for (const bytes of parts) {
    for (let at = 0; at < bytes.length; at += WRITE_CHUNK_BYTES) {
      const end = Math.min(at + WRITE_CHUNK_BYTES, bytes.length)
      yield bytes.subarray(at, end)
      sent += end - at
      onProgress?.(sent) // the sink pulled again: the chunk was taken
    }
  }
}
