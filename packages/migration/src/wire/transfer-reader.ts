import type { Uint8ArrayList } from 'uint8arraylist'
import { MigrationError } from '../errors.js'
import { deadlinePull } from './deadline-pull.js'
import { DEFAULT_DECODE_LIMITS } from './decode-limits.js'
import type { DecodeLimits, MemoryLedger } from './decode-limits.js'
import { PullJson } from './pull-json.js'
import { readAgentTransfer } from './transfer-decoder.js'
import type { DecodeHooks } from './transfer-decoder.js'
import type { AgentTransfer } from './types.js'

export interface ReadTransferOptions {
  /** Largest message accepted, in bytes received (leading whitespace included). */
  readonly maxBytes: number
  /** Time allowed for the whole message, from the call. */
  readonly timeoutMs: number
  readonly signal?: AbortSignal
  /** Per-field limits (default `DEFAULT_DECODE_LIMITS`). */
  readonly limits?: DecodeLimits
  /** Where decoded bytes are counted (the admission's and the node's memory ceilings). */
  readonly ledger?: MemoryLedger
  readonly hooks?: DecodeHooks
}

/** What a transfer reader returns: the transfer, the bytes received, and (2.0.0) the checkpoint's SHA-256, hashed as it arrived. */
export interface ReadTransferResult {
  readonly transfer: AgentTransfer
  readonly bytes: number
  readonly checkpointHash?: Uint8Array
}

/**
 * Reads and decodes one `AgentTransfer` as its bytes arrive (SPEC §7 target
 * step 1, and "What a peer can and cannot do"): each chunk is decoded and
 * dropped, so the transfer's text is never held — memory is the decoded
 * fields (charged to `ledger`), the nesting stack and one chunk. Unknown
 * members are skipped unbuilt; a field over its limit is refused at once,
 * before the rest arrives. Returns as soon as the object's closing brace
 * arrives (the peer may keep the stream open; anything after it is dropped),
 * with the number of bytes received.
 *
 * Refusals, all `MigrationError`: `TRANSFER_TOO_LARGE` past `maxBytes` or a
 * field limit; `TARGET_BUSY` from the ledger; `TRANSFER_TIMEOUT`,
 * `TRANSFER_EMPTY`, `TRANSFER_TRUNCATED`, `TRANSFER_ABORTED`,
 * `STREAM_FAILED` as `readJsonMessage`; `BAD_TRANSFER` naming the field.
 */
export async function readAgentTransferFrom(
  source: AsyncIterable<Uint8ArrayList | Uint8Array>,
  options: ReadTransferOptions
): Promise<ReadTransferResult> {
  const { maxBytes, timeoutMs, signal } = options
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`)
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`)
  if (signal?.aborted === true) throw new MigrationError('TRANSFER_ABORTED', 'read: aborted before start')

  const pull = new PullJson('BAD_TRANSFER', 'AgentTransfer', true)
  const reader = readAgentTransfer(pull, options.limits ?? DEFAULT_DECODE_LIMITS, options.ledger ?? null, options.hooks ?? {})
  let total = 0

  const chunks = deadlinePull(source, timeoutMs, signal, () => total)
  const next = chunks.next

  try {
    let step = reader.next()
    for (;;) {
      if (step.done === true) return { transfer: step.value, bytes: total }
      const result = await next()
      if (result.done === true) {
        step = reader.next(null)
        continue
      }
      const value = result.value
      const bufs: Iterable<Uint8Array> = value instanceof Uint8Array ? [value] : value
      for (const buf of bufs) {
        const room = maxBytes - total
        step = reader.next(buf.length > room ? buf.subarray(0, room) : buf)
        total += Math.min(buf.length, room)
        if (step.done === true) return { transfer: step.value, bytes: total }
        if (buf.length > room) throw new MigrationError('TRANSFER_TOO_LARGE', `read: message exceeds ${maxBytes} bytes`)
      }
    }
  } finally {
    reader.return(undefined as never)
    chunks.close()
  }
}
