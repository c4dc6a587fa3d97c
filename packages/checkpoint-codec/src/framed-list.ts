// SPEC §15 receipts: the list framing shared by the `receipts` and `payments`
// blobs, `u32 count ‖ (u32 len ‖ item)*`, little-endian.
import { ReceiptError } from './receipt-errors.js'

export interface FramedListOptions {
  /** Refuse a blob whose count is above this (`TOO_MANY`), before reading any entry. */
  readonly maxCount?: number
}

/** `u32 count ‖ (u32 len ‖ item)*`. */
export function encodeFramedList(items: readonly Uint8Array[]): Uint8Array {
  let length = 4
  for (const item of items) length += 4 + item.length
  const out = new Uint8Array(length)
  const view = new DataView(out.buffer)
  view.setUint32(0, items.length, true)
  let pos = 4
  for (const item of items) {
    view.setUint32(pos, item.length, true)
    out.set(item, pos + 4)
    pos += 4 + item.length
  }
  return out
}

/**
 * The entries of a framed blob as views into `blob`. `what` names the blob in
 * messages (`receipts`); entry errors name the entry (`receipts entry 3: …`).
 * A count that the bytes cannot hold (each entry needs its 4-byte length) is
 * refused before anything is allocated; bytes after the last entry are refused.
 */
export function decodeFramedList(blob: Uint8Array, what: string, options: FramedListOptions = {}): Uint8Array[] {
  if (blob.length < 4) {
    throw new ReceiptError('TRUNCATED', `${what} blob truncated at count: need 4 bytes, have ${blob.length}`, { field: 'count', have: blob.length, need: 4 })
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.length)
  const count = view.getUint32(0, true)
  if (options.maxCount !== undefined && count > options.maxCount) {
    throw new ReceiptError('TOO_MANY', `${what} blob holds ${count} entries, at most ${options.maxCount} allowed`, { field: 'count' })
  }
  const room = Math.floor((blob.length - 4) / 4)
  if (count > room) {
    throw new ReceiptError('TRUNCATED', `${what} blob says ${count} entries but ${blob.length} bytes hold at most ${room}`, { field: 'count', have: blob.length, need: 4 + count * 4 })
  }
  const items: Uint8Array[] = []
  let pos = 4
  for (let index = 0; index < count; index++) {
    if (blob.length - pos < 4) {
      throw new ReceiptError('TRUNCATED', `${what} entry ${index} truncated at its length: need 4 bytes, have ${blob.length - pos}`, { field: 'length', index, have: blob.length - pos, need: 4 })
    }
    const length = view.getUint32(pos, true)
    pos += 4
    if (length > blob.length - pos) {
      throw new ReceiptError('TRUNCATED', `${what} entry ${index} truncated: need ${length} bytes, have ${blob.length - pos}`, { field: 'entry', index, have: blob.length - pos, need: length })
    }
    items.push(blob.subarray(pos, pos + length))
    pos += length
  }
  if (pos !== blob.length) {
    throw new ReceiptError('TRAILING_BYTES', `${what} blob has ${blob.length - pos} trailing bytes after ${count} entries`, { field: 'end' })
  }
  return items
}

/** Decodes every entry with `decode`, prefixing its errors with the entry index (`receipt 3: …`). */
export function decodeEach<T>(items: readonly Uint8Array[], noun: string, decode: (bytes: Uint8Array) => T): T[] {
  return items.map((item, index) => {
    try {
      return decode(item)
    } catch (error) {
      if (error instanceof ReceiptError) {
        throw new ReceiptError(error.code, `${noun} ${index}: ${error.message}`, { field: error.field, index, have: error.have, need: error.need })
      }
      throw error
    }
  })
}
