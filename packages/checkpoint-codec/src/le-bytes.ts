// SPEC §15 receipts: bounded little-endian reading and writing for the receipt
// layouts. Every read checks the remaining length first, so a decoder built on
// it raises `ReceiptError` and nothing else for any input.
import { ReceiptError } from './receipt-errors.js'

const I64_MIN = -(1n << 63n)
const I64_MAX = (1n << 63n) - 1n
const U64_MAX = (1n << 64n) - 1n
// A lone surrogate (a well-formed pair is one code point in `u` mode and does not match).
const LONE_SURROGATE = /\p{Cs}/u
const utf8 = new TextEncoder()
// `fatal`: malformed bytes are an error, not U+FFFD; `ignoreBOM`: a leading BOM is kept, so
// decode ∘ encode is the identity and the signed bytes are the bytes read.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Reads one receipt front to back; `what` names it in messages (`receipt`, `payment receipt`). */
export class LeReader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #pos = 0

  constructor(bytes: Uint8Array, readonly what: string) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  }

  get position(): number {
    return this.#pos
  }

  #need(n: number, field: string): void {
    const have = this.#bytes.length - this.#pos
    if (n > have) {
      throw new ReceiptError('TRUNCATED', `${this.what} truncated at ${field}: need ${n} bytes, have ${have}`, { field, have, need: n })
    }
  }

  u32(field: string): number {
    this.#need(4, field)
    const value = this.#view.getUint32(this.#pos, true)
    this.#pos += 4
    return value
  }

  u64(field: string): bigint {
    this.#need(8, field)
    const value = this.#view.getBigUint64(this.#pos, true)
    this.#pos += 8
    return value
  }

  i64(field: string): bigint {
    this.#need(8, field)
    const value = this.#view.getBigInt64(this.#pos, true)
    this.#pos += 8
    return value
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number, field: string): Uint8Array {
    this.#need(n, field)
    const out = this.#bytes.slice(this.#pos, this.#pos + n)
    this.#pos += n
    return out
  }

  /** `u32 len ‖ bytes`, refused above `max` before anything is read or allocated. */
  lengthPrefixed(field: string, max: number): Uint8Array {
    const length = this.u32(`${field} length`)
    if (length > max) throw new ReceiptError('TOO_LONG', `${this.what} ${field} is ${length} bytes, at most ${max} allowed`, { field })
    return this.bytes(length, field)
  }

  /** `u32 len ‖ utf8`, strictly decoded. */
  string(field: string, max: number): string {
    const raw = this.lengthPrefixed(field, max)
    try {
      return strictUtf8.decode(raw)
    } catch {
      throw new ReceiptError('INVALID_UTF8', `${this.what} ${field} is not valid UTF-8`, { field })
    }
  }

  /** Refuses bytes after the last field. */
  end(): void {
    const left = this.#bytes.length - this.#pos
    if (left !== 0) throw new ReceiptError('TRAILING_BYTES', `${this.what} has ${left} trailing bytes`, { field: 'end' })
  }
}

/** UTF-8 of a string field, refused when it has a lone surrogate or is longer than `max` bytes. */
export function utf8Field(value: unknown, field: string, max: number, what: string): Uint8Array {
  if (typeof value !== 'string') throw new TypeError(`${what} ${field} must be a string`)
  if (LONE_SURROGATE.test(value)) throw new ReceiptError('INVALID_UTF8', `${what} ${field} is not well-formed Unicode`, { field })
  const bytes = utf8.encode(value)
  if (bytes.length > max) throw new ReceiptError('TOO_LONG', `${what} ${field} is ${bytes.length} bytes, at most ${max} allowed`, { field })
  return bytes
}

/** A `Uint8Array` field of at most `max` bytes. */
export function bytesField(value: unknown, field: string, max: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} ${field} must be a Uint8Array`)
  if (value.length > max) throw new ReceiptError('TOO_LONG', `${what} ${field} is ${value.length} bytes, at most ${max} allowed`, { field })
  return value
}

function bigintField(value: unknown, field: string, min: bigint, max: bigint, what: string): bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${what} ${field} must be a bigint`)
  if (value < min || value > max) throw new RangeError(`${what} ${field} ${value} is outside ${min}…${max}`)
  return value
}

export const u64Field = (value: unknown, field: string, what: string): bigint => bigintField(value, field, 0n, U64_MAX, what)
export const i64Field = (value: unknown, field: string, what: string): bigint => bigintField(value, field, I64_MIN, I64_MAX, what)

/** Writes fields into a buffer sized up front. */
export class LeWriter {
  readonly bytes: Uint8Array
  readonly #view: DataView
  #pos = 0

  constructor(length: number) {
    this.bytes = new Uint8Array(length)
    this.#view = new DataView(this.bytes.buffer)
  }

  u32(value: number): this {
    this.#view.setUint32(this.#pos, value, true)
    this.#pos += 4
    return this
  }

  u64(value: bigint): this {
    this.#view.setBigUint64(this.#pos, value, true)
    this.#pos += 8
    return this
  }

  i64(value: bigint): this {
    this.#view.setBigInt64(this.#pos, value, true)
    this.#pos += 8
    return this
  }

  raw(value: Uint8Array): this {
    this.bytes.set(value, this.#pos)
    this.#pos += value.length
    return this
  }

  lengthPrefixed(value: Uint8Array): this {
    return this.u32(value.length).raw(value)
  }
}
