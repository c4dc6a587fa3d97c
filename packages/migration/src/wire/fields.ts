import { MigrationError } from '../errors.js'
import type { MigrationErrorCode } from '../errors.js'
import { checkStrings, decodeJsonString } from './json-parse.js'
import type { JsonNode, JsonString } from './json-parse.js'
import { RawJson } from './raw-json.js'

export const U64_MAX = (1n << 64n) - 1n
export const I64_MAX = (1n << 63n) - 1n

/** Decimal text of an integer: what Go accepts for int64/uint64 fields (no fraction, no exponent). */
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/
/** Base64 characters decoded per slice (a multiple of 4). */
const BASE64_SLICE = 4 * 1024 * 1024

/**
 * Reads the fields of one JSON object for a decoder: each lookup names the
 * full field path in its error (`AgentTransfer.Package.WASMHash: not base64`).
 */
export class FieldReader {
  private readonly members = new Map<string, JsonNode>()

  constructor(
    private readonly src: Buffer,
    private readonly code: MigrationErrorCode,
    private readonly path: string,
    node: JsonNode,
    known: readonly string[]
  ) {
    if (node.kind !== 'object') this.fail(path, `expected an object, got ${describe(node)}`)
    for (const { key, value } of node.members) {
      // Go lets the last duplicate win; a wire message with two values for one
      // field is ambiguous, so it is refused outright.
      if (this.members.has(key)) this.fail(`${path}.${key}`, 'duplicate field')
      this.members.set(key, value)
      // Unknown fields are ignored, as Go does, but must still be valid JSON.
      if (!known.includes(key)) checkStrings(src, value, code, `${path}.${key}`)
    }
  }

  fail(field: string, reason: string): never {
    throw new MigrationError(this.code, `${field}: ${reason}`)
  }

  /** The node of a field, or undefined when absent. */
  optional(name: string): JsonNode | undefined {
    return this.members.get(name)
  }

  required(name: string): JsonNode {
    const node = this.members.get(name)
    if (node === undefined) this.fail(`${this.path}.${name}`, 'missing')
    return node
  }

  field(name: string): string {
    return `${this.path}.${name}`
  }

  string(name: string, opts: { nonEmpty?: boolean; optional?: boolean } = {}): string {
    const node = opts.optional === true ? this.optional(name) : this.required(name)
    if (node === undefined) return ''
    if (node.kind !== 'string') this.fail(this.field(name), `expected a string, got ${describe(node)}`)
    checkStrings(this.src, node, this.code, this.field(name))
    const value = decodeJsonString(this.src, node)
    if (opts.nonEmpty === true && value === '') this.fail(this.field(name), 'must not be empty')
    return value
  }

  boolean(name: string): boolean {
    const node = this.required(name)
    if (node.kind === 'true') return true
    if (node.kind === 'false') return false
    return this.fail(this.field(name), `expected true or false, got ${describe(node)}`)
  }

  /** An unsigned 64-bit field; absent → 0n when `optional` (Go omitempty). */
  u64(name: string, opts: { optional?: boolean } = {}): bigint {
    return this.integer(name, 0n, U64_MAX, 'a uint64 (0 … 2^64-1)', opts.optional === true)
  }

  /** An unsigned 16-bit field (hostcall ids). */
  u16(name: string): bigint {
    return this.integer(name, 0n, 0xffffn, 'a uint16 (0 … 65535)', false)
  }

  /** A signed 64-bit field that must not be negative (budgets and prices, SPEC §4). */
  nonNegativeI64(name: string): bigint {
    return this.integer(name, 0n, I64_MAX, 'a non-negative int64 (0 … 2^63-1)', false)
  }

  private integer(name: string, min: bigint, max: bigint, what: string, optional: boolean): bigint {
    const node = optional ? this.optional(name) : this.required(name)
    if (node === undefined) return 0n
    if (node.kind !== 'number') this.fail(this.field(name), `expected ${what}, got ${describe(node)}`)
    const text = node.text
    // 21 characters bound every int64/uint64; longer digit runs are refused before BigInt sees them.
    if (text.length > 21 || !INTEGER.test(text)) this.fail(this.field(name), `expected ${what}, got ${clip(text)}`)
    const value = BigInt(text)
    if (value < min || value > max) this.fail(this.field(name), `expected ${what}, got ${text}`)
    return value
  }

  /** A Go `[]byte` field: padded standard base64, or `null` (nil slice) for empty. */
  bytes(name: string): Uint8Array {
    const node = this.required(name)
    if (node.kind === 'null') return new Uint8Array(0)
    if (node.kind !== 'string') this.fail(this.field(name), `expected a base64 string, got ${describe(node)}`)
    return decodeBase64Field(this.src, node, (reason) => this.fail(this.field(name), reason))
  }

  /** Any JSON value kept as its exact source text. */
  raw(name: string): RawJson | undefined {
    const node = this.optional(name)
    if (node === undefined) return undefined
    checkStrings(this.src, node, this.code, this.field(name))
    return RawJson.trusted(this.src.toString('utf8', node.start, node.end))
  }
}

/**
 * Strict base64: the text must be exactly what Go's `StdEncoding` (and
 * Node's encoder) writes for the decoded bytes — padded, standard alphabet,
 * nothing else. Node's decoder skips characters outside the alphabet and
 * stops at the first `=`, so any of those leaves it short of the length the
 * text promises; it accepts the URL-safe `-` and `_`, which are looked for
 * natively; and the unused bits before the padding must be zero. Together
 * that is the re-encoding check without a second pass over megabytes.
 */
function decodeBase64Field(src: Buffer, node: JsonString, fail: (reason: string) => never): Uint8Array {
  if (node.escaped) {
    // Escapes are legal JSON; decode them, then hold the text to the same rule.
    const text = decodeJsonString(src, node)
    const bytes = Buffer.from(text, 'base64')
    if (bytes.toString('base64') !== text) fail('not base64')
    return ownBytes(bytes)
  }
  const from = node.start + 1
  const to = node.end - 1
  const length = to - from
  if (length % 4 !== 0) fail(`not base64 (length ${length} is not a multiple of 4)`)
  if (length === 0) return new Uint8Array(0)
  const padding = src[to - 1] === 0x3d ? (src[to - 2] === 0x3d ? 2 : 1) : 0
  const out = new Uint8Array((length / 4) * 3 - padding)
  const outBuf = Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  let at = 0
  for (let i = from; i < to; i += BASE64_SLICE) {
    at += outBuf.write(src.toString('latin1', i, Math.min(i + BASE64_SLICE, to)), at, 'base64')
  }
  if (at !== out.length) fail('not base64')
  const text = src.subarray(from, to)
  if (text.indexOf(0x2d) >= 0 || text.indexOf(0x5f) >= 0) fail('not base64')
  // The bits the last data character carries beyond the decoded bytes must be zero.
  if (padding > 0 && (sextet(src[to - 1 - padding] as number) & (padding === 1 ? 0x03 : 0x0f)) !== 0) fail('not base64')
  return out
}

/** Value of one standard-alphabet base64 character. */
function sextet(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52
  return c === 0x2b ? 62 : 63
}

/** A Uint8Array that owns its whole ArrayBuffer (small Buffers share Node's pool). */
function ownBytes(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return new Uint8Array(buf.buffer)
  return new Uint8Array(buf)
}

function describe(node: JsonNode): string {
  switch (node.kind) {
    case 'object': return 'an object'
    case 'array': return 'an array'
    case 'string': return 'a string'
    case 'number': return `the number ${clip(node.text)}`
    default: return node.kind
  }
}

function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text
}
