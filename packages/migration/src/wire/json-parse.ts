import { MigrationError } from '../errors.js'
import type { MigrationErrorCode } from '../errors.js'

/**
 * A small exact JSON parser over bytes (RFC 8259).
 *
 * Why not `JSON.parse`: numbers above 2^53 must survive exactly (SPEC §7), so
 * numbers are kept as their source text. Why not lossless-json: it builds
 * strings one character at a time, far too slow for a 16 MiB base64
 * checkpoint. Here a string is only located (native byte search), and
 * decoded later by whoever knows what the field means.
 */

interface Span {
  /** Byte offset of the first byte of the value. */
  readonly start: number
  /** Byte offset just past the value. */
  readonly end: number
}

export interface JsonObject extends Span {
  readonly kind: 'object'
  readonly members: readonly JsonMember[]
}
export interface JsonMember {
  readonly key: string
  readonly value: JsonNode
}
export interface JsonArray extends Span {
  readonly kind: 'array'
  readonly items: readonly JsonNode[]
}
/** Content is `source[start + 1, end - 1)`. */
export interface JsonString extends Span {
  readonly kind: 'string'
  /** Contains at least one backslash escape (escapes are always validated). */
  readonly escaped: boolean
  /**
   * False for long unescaped strings whose bytes were not yet checked for raw
   * control characters; `checkString` does it when the content is used.
   */
  readonly verified: boolean
}
export interface JsonNumber extends Span {
  readonly kind: 'number'
  /** The exact source text, e.g. `18446744073709551615` or `1.5e3`. */
  readonly text: string
}
export interface JsonLiteral extends Span {
  readonly kind: 'true' | 'false' | 'null'
}
export type JsonNode = JsonObject | JsonArray | JsonString | JsonNumber | JsonLiteral

/** Nesting deeper than this is refused (a hostile peer must not blow the stack). */
export const MAX_JSON_DEPTH = 512

const QUOTE = 0x22
const BACKSLASH = 0x5c
/** Strings longer than this are checked for control characters lazily (see `JsonString.verified`). */
const LAZY_CHECK_BYTES = 4096

/** JSON's two-character escapes, by the byte after the backslash (shared with the streaming reader). */
export const ESCAPES: Readonly<Record<number, string>> = {
  [QUOTE]: '"',
  [BACKSLASH]: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t'
}

function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39
}

/** Wraps a Uint8Array as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

class Parser {
  private i = 0

  constructor(
    private readonly src: Buffer,
    private readonly code: MigrationErrorCode,
    private readonly what: string
  ) {}

  fail(reason: string, at: number = this.i): never {
    throw new MigrationError(this.code, `${this.what}: invalid JSON at byte ${at}: ${reason}`)
  }

  parseDocument(): JsonNode {
    this.skipWhitespace()
    if (this.i >= this.src.length) this.fail('empty input')
    const value = this.parseValue(0)
    this.skipWhitespace()
    if (this.i < this.src.length) this.fail('unexpected data after the value')
    return value
  }

  private skipWhitespace(): void {
    const src = this.src
    while (isWhitespace(src[this.i])) this.i++
  }

  private parseValue(depth: number): JsonNode {
    const c = this.src[this.i]
    switch (c) {
      case 0x7b: return this.parseObject(depth + 1)
      case 0x5b: return this.parseArray(depth + 1)
      case QUOTE: return this.parseString()
      case 0x74: return this.parseLiteral('true')
      case 0x66: return this.parseLiteral('false')
      case 0x6e: return this.parseLiteral('null')
      default:
        if (c === 0x2d || isDigit(c)) return this.parseNumber()
        return this.fail(c === undefined ? 'unexpected end of input' : `unexpected byte 0x${c.toString(16).padStart(2, '0')}`)
    }
  }

  private parseObject(depth: number): JsonObject {
    if (depth > MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH}`)
    const start = this.i++
    const members: JsonMember[] = []
    this.skipWhitespace()
    if (this.src[this.i] === 0x7d) {
      this.i++
      return { kind: 'object', members, start, end: this.i }
    }
    for (;;) {
      if (this.src[this.i] !== QUOTE) this.fail('expected a member name')
      const keyNode = this.parseString()
      checkStrings(this.src, keyNode, this.code, this.what)
      const key = decodeJsonString(this.src, keyNode)
      this.skipWhitespace()
      if (this.src[this.i] !== 0x3a) this.fail("expected ':'")
      this.i++
      this.skipWhitespace()
      const value = this.parseValue(depth)
      members.push({ key, value })
      this.skipWhitespace()
      const c = this.src[this.i]
      if (c === 0x2c) {
        this.i++
        this.skipWhitespace()
        continue
      }
      if (c === 0x7d) {
        this.i++
        return { kind: 'object', members, start, end: this.i }
      }
      this.fail("expected ',' or '}'")
    }
  }

  private parseArray(depth: number): JsonArray {
    if (depth > MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH}`)
    const start = this.i++
    const items: JsonNode[] = []
    this.skipWhitespace()
    if (this.src[this.i] === 0x5d) {
      this.i++
      return { kind: 'array', items, start, end: this.i }
    }
    for (;;) {
      items.push(this.parseValue(depth))
      this.skipWhitespace()
      const c = this.src[this.i]
      if (c === 0x2c) {
        this.i++
        this.skipWhitespace()
        continue
      }
      if (c === 0x5d) {
        this.i++
        return { kind: 'array', items, start, end: this.i }
      }
      this.fail("expected ',' or ']'")
    }
  }

  private parseString(): JsonString {
    const src = this.src
    const start = this.i
    // Fast path (megabytes of base64): find the closing quote and any
    // backslash with native byte search. Without a backslash the first quote
    // ends the string; control characters are then checked only when the
    // content is used (`verified: false`).
    const quote = src.indexOf(QUOTE, start + 1)
    if (quote < 0) this.fail('unterminated string', start)
    if (src.subarray(start + 1, quote).indexOf(BACKSLASH) < 0) {
      const end = quote + 1
      this.i = end
      if (quote - start > LAZY_CHECK_BYTES) return { kind: 'string', escaped: false, verified: false, start, end }
      const bad = firstControl(src, start + 1, quote)
      if (bad >= 0) this.fail('control character in string', bad)
      return { kind: 'string', escaped: false, verified: true, start, end }
    }
    let i = start + 1
    for (;;) {
      if (i >= src.length) this.fail('unterminated string', start)
      const c = src[i] as number
      if (c === QUOTE) break
      if (c === BACKSLASH) {
        const e = src[i + 1]
        if (e === 0x75) {
          if (!(isHex(src[i + 2]) && isHex(src[i + 3]) && isHex(src[i + 4]) && isHex(src[i + 5]))) this.fail('bad \\u escape', i)
          i += 6
        } else if (e !== undefined && ESCAPES[e] !== undefined) {
          i += 2
        } else {
          this.fail('bad escape', i)
        }
        continue
      }
      if (c < 0x20) this.fail('control character in string', i)
      i++
    }
    this.i = i + 1
    return { kind: 'string', escaped: true, verified: true, start, end: i + 1 }
  }

  private parseNumber(): JsonNumber {
    const src = this.src
    const start = this.i
    let i = start
    if (src[i] === 0x2d) i++
    if (src[i] === 0x30) {
      i++
    } else if (isDigit(src[i])) {
      while (isDigit(src[i])) i++
    } else {
      this.fail('bad number', start)
    }
    if (src[i] === 0x2e) {
      i++
      if (!isDigit(src[i])) this.fail('bad number', start)
      while (isDigit(src[i])) i++
    }
    if (src[i] === 0x65 || src[i] === 0x45) {
      i++
      if (src[i] === 0x2b || src[i] === 0x2d) i++
      if (!isDigit(src[i])) this.fail('bad number', start)
      while (isDigit(src[i])) i++
    }
    this.i = i
    return { kind: 'number', text: src.toString('latin1', start, i), start, end: i }
  }

  private parseLiteral(word: 'true' | 'false' | 'null'): JsonLiteral {
    const start = this.i
    for (let k = 0; k < word.length; k++) {
      if (this.src[start + k] !== word.charCodeAt(k)) this.fail('bad literal', start)
    }
    this.i = start + word.length
    return { kind: word, start, end: this.i }
  }
}

function firstControl(src: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if ((src[i] as number) < 0x20) return i
  return -1
}

/**
 * Completes the validation of an unverified string (and of every string
 * inside an object or array): throws `MigrationError(code)` at the first raw
 * control character.
 */
export function checkStrings(src: Buffer, node: JsonNode, code: MigrationErrorCode, what: string): void {
  switch (node.kind) {
    case 'string': {
      if (node.verified) return
      const bad = firstControl(src, node.start + 1, node.end - 1)
      if (bad >= 0) throw new MigrationError(code, `${what}: invalid JSON at byte ${bad}: control character in string`)
      return
    }
    case 'object':
      for (const member of node.members) checkStrings(src, member.value, code, what)
      return
    case 'array':
      for (const item of node.items) checkStrings(src, item, code, what)
      return
    default:
  }
}

/** Parses exactly one JSON value (surrounding whitespace allowed); throws `MigrationError(code)` naming `what`. */
export function parseJson(src: Uint8Array, code: MigrationErrorCode, what: string): JsonNode {
  return new Parser(asBuffer(src), code, what).parseDocument()
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * The string value of a parsed string node. Invalid UTF-8 and unpaired
 * surrogate escapes become U+FFFD, as Go's decoder does.
 */
export function decodeJsonString(src: Buffer, node: JsonString): string {
  const from = node.start + 1
  const to = node.end - 1
  if (!node.escaped) return src.toString('utf8', from, to)
  let out = ''
  let runStart = from
  let i = from
  while (i < to) {
    if (src[i] !== BACKSLASH) {
      i++
      continue
    }
    out += src.toString('utf8', runStart, i)
    const e = src[i + 1] as number
    if (e === 0x75) {
      out += String.fromCharCode(parseInt(src.toString('latin1', i + 2, i + 6), 16))
      i += 6
    } else {
      out += ESCAPES[e] as string
      i += 2
    }
    runStart = i
  }
  out += src.toString('utf8', runStart, to)
  return out.replace(LONE_SURROGATE, '\uFFFD')
}
