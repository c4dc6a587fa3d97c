import { MigrationError } from '../errors.js'
import type { MigrationErrorCode } from '../errors.js'
import { ESCAPES, MAX_JSON_DEPTH } from './json-parse.js'

/**
 * A pull reader of JSON over chunks (SPEC §7 "What a peer can and cannot
 * do": admission is bounded in memory). The caller drives it as a generator:
 * every method that may need more bytes is a generator that `yield`s and
 * expects the next chunk (or `null` at end of input) from `next(chunk)`.
 *
 * Nothing is built that the caller did not ask for: a value the schema does
 * not know is validated and skipped by one state machine (`skip`) that holds
 * only its nesting stack, whatever its size. Byte positions in errors are
 * counted from the start of the message.
 */
export type Pull<T> = Generator<void, T, Uint8Array | null>

const EMPTY = new Uint8Array(0)
const QUOTE = 0x22
const BACKSLASH = 0x5c

const LITERALS: Record<number, Uint8Array> = {
  0x74: new TextEncoder().encode('true'),
  0x66: new TextEncoder().encode('false'),
  0x6e: new TextEncoder().encode('null')
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

// Number grammar (RFC 8259) as states; END: the byte is not part of the number.
const NUM_END = -1
const NUM_BAD = -2
/** 0 start, 1 after '-', 2 after a leading 0, 3 int digits, 4 after '.', 5 fraction, 6 after 'e', 7 after the sign, 8 exponent. */
function numberStep(state: number, c: number): number {
  const digit = c >= 0x30 && c <= 0x39
  switch (state) {
    case 0: return c === 0x2d ? 1 : c === 0x30 ? 2 : digit ? 3 : NUM_BAD
    case 1: return c === 0x30 ? 2 : digit ? 3 : NUM_BAD
    case 2: return c === 0x2e ? 4 : c === 0x65 || c === 0x45 ? 6 : NUM_END
    case 3: return digit ? 3 : c === 0x2e ? 4 : c === 0x65 || c === 0x45 ? 6 : NUM_END
    case 4: return digit ? 5 : NUM_BAD
    case 5: return digit ? 5 : c === 0x65 || c === 0x45 ? 6 : NUM_END
    case 6: return c === 0x2b || c === 0x2d ? 7 : digit ? 8 : NUM_BAD
    case 7: return digit ? 8 : NUM_BAD
    default: return digit ? 8 : NUM_END
  }
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  return -1
}

// skip() states
const S_VALUE = 0
const S_VALUE_OR_CLOSE = 1
const S_KEY_OR_CLOSE = 2
const S_KEY = 3
const S_COLON = 4
const S_AFTER = 5
const S_STRING = 6
const S_ESCAPE = 7
const S_HEX = 8
const S_NUMBER = 9
const S_LITERAL = 10
const OBJECT = 1
const ARRAY = 2

/** Copies of the bytes a `skip` passed over, for a value kept as text (`Receipts`). */
export interface Recording { parts: Uint8Array[], size: number, readonly max: number, readonly over: () => never }

export class PullJson {
  private buf: Uint8Array = EMPTY
  private at = 0
  private base = 0
  private eof = false
  private content = false
  private readonly stack = new Uint8Array(MAX_JSON_DEPTH + 1)

  /**
   * @param what the message's name in errors (`AgentTransfer`)
   * @param streaming at end of input: `TRANSFER_EMPTY`/`TRANSFER_TRUNCATED` (a stream) rather than invalid JSON (bytes)
   */
  constructor(private readonly code: MigrationErrorCode, readonly what: string, private readonly streaming: boolean) {}

  /** Byte offset of the next unread byte, from the start of the message. */
  get offset(): number {
    return this.base + this.at
  }

  fail(path: string, reason: string, at: number = this.offset): never {
    throw new MigrationError(this.code, `${path}: invalid JSON at byte ${at}: ${reason}`)
  }

  /** Input ended where a byte was needed. */
  ended(path: string): never {
    if (this.streaming) {
      if (!this.content) throw new MigrationError('TRANSFER_EMPTY', 'read: stream ended before a message arrived')
      throw new MigrationError('TRANSFER_TRUNCATED', `read: stream ended mid-message after ${this.offset} bytes`)
    }
    return this.fail(path, this.content ? 'unexpected end of input' : 'empty input')
  }

  /** At least one unread byte is buffered; false at end of input. */
  * more (): Pull<boolean> {
    while (this.at >= this.buf.length) {
      if (this.eof) return false
      const next = yield
      this.base += this.buf.length
      this.at = 0
      if (next === null) {
        this.eof = true
        this.buf = EMPTY
        return false
      }
      this.buf = next
    }
    return true
  }

  /** The next non-whitespace byte, not consumed; -1 at end of input. */
  * peek (): Pull<number> {
    for (;;) {
      if (this.at >= this.buf.length && !(yield * this.more())) return -1
      const c = this.buf[this.at] as number
      if (!isWhitespace(c)) {
        this.content = true
        return c
      }
      this.at++
    }
  }

  /**
   * Fast paths (no generator): the next non-whitespace byte if this chunk has
   * one, not consumed; -1 when the chunk is used up (then `peekValue`).
   */
  peekHere(): number {
    const buf = this.buf
    let at = this.at
    while (at < buf.length && isWhitespace(buf[at] as number)) at++
    this.at = at
    if (at >= buf.length) return -1
    this.content = true
    return buf[at] as number
  }

  /** The chunk being read and the position in it, for fast paths that read ahead; `skipTo` commits. */
  get chunk(): Uint8Array {
    return this.buf
  }

  get position(): number {
    return this.at
  }

  skipTo(at: number): void {
    this.at = at
  }

  /** Like `peek`, but the end of input is an error. */
  * peekValue (path: string): Pull<number> {
    const c = yield * this.peek()
    if (c < 0) this.ended(path)
    return c
  }

  /** Consumes the byte `peek` returned. */
  take(): void {
    this.at++
  }

  private * byte (path: string): Pull<number> {
    if (!(yield * this.more())) this.ended(path)
    return this.buf[this.at++] as number
  }

  /**
   * At a `"`: the string's value (escapes decoded, invalid UTF-8 and lone
   * surrogates as U+FFFD, as Go reads them), or `null` when its text is longer
   * than `max` bytes — then it is still validated but not kept.
   */
  * string (path: string, max: number): Pull<string | null> {
    this.at++
    // Fast path: the whole string is in this chunk, unescaped and short enough.
    {
      const buf = this.buf
      const from = this.at
      const end = Math.min(buf.length, from + max + 1)
      let i = from
      while (i < end) {
        const c = buf[i] as number
        if (c === QUOTE || c === BACKSLASH || c < 0x20) break
        i++
      }
      if (i < end && buf[i] === QUOTE) {
        this.at = i + 1
        return Buffer.from(buf.buffer, buf.byteOffset + from, i - from).toString('utf8')
      }
    }
    const parts: Array<Uint8Array | string> = []
    let size = 0
    let over = false
    for (;;) {
      if (!(yield * this.more())) this.ended(path)
      const buf = this.buf
      const from = this.at
      let i = from
      while (i < buf.length) {
        const c = buf[i] as number
        if (c === QUOTE || c === BACKSLASH || c < 0x20) break
        i++
      }
      if (i > from && !over) {
        size += i - from
        if (size > max) over = true
        else parts.push(buf.slice(from, i))
      }
      this.at = i
      if (i === buf.length) continue
      const c = buf[i] as number
      if (c < 0x20) this.fail(path, 'control character in string')
      if (c === QUOTE) {
        this.at++
        return over ? null : joinString(parts)
      }
      const text = yield * this.escape(path)
      if (!over) {
        size += 1
        if (size > max) over = true
        else parts.push(text)
      }
    }
  }

  /** At a backslash: the escape's text (one UTF-16 unit for `\u`). */
  * escape (path: string): Pull<string> {
    const at = this.offset
    this.at++
    const e = yield * this.byte(path)
    if (e === 0x75) {
      let value = 0
      for (let k = 0; k < 4; k++) {
        const h = hexValue(yield * this.byte(path))
        if (h < 0) this.fail(path, 'bad \\u escape', at)
        value = value * 16 + h
      }
      return String.fromCharCode(value)
    }
    const text = ESCAPES[e]
    if (text === undefined) this.fail(path, 'bad escape', at)
    return text
  }

  /** At a number: its text, or `null` when longer than `max` characters (then not consumed further). */
  * number (path: string, max: number): Pull<string | null> {
    let state = 0
    let text = ''
    for (;;) {
      if (!(yield * this.more())) {
        if (state === 2 || state === 3 || state === 5 || state === 8) return text
        this.ended(path)
      }
      const c = this.buf[this.at] as number
      const next = numberStep(state, c)
      if (next === NUM_END) return text
      if (next === NUM_BAD) this.fail(path, 'bad number')
      if (text.length >= max) return null
      text += String.fromCharCode(c)
      state = next
      this.at++
    }
  }

  /** At `t`, `f` or `n`: the literal, checked byte by byte. */
  * literal (path: string): Pull<'true' | 'false' | 'null'> {
    const start = this.offset
    const word = LITERALS[this.buf[this.at] as number]
    if (word === undefined) this.fail(path, 'bad literal')
    for (let k = 0; k < word.length; k++) {
      if ((yield * this.byte(path)) !== word[k]) this.fail(path, 'bad literal', start)
    }
    return word.length === 4 ? (word[0] === 0x74 ? 'true' : 'null') : 'false'
  }

  /**
   * Validates and skips one value of any size, building nothing: memory is
   * the nesting stack (`MAX_JSON_DEPTH` bytes). `depth` is the nesting of the
   * value's parent. With `record`, the value's bytes are also copied out
   * (at most `record.max` of them).
   */
  * skip (path: string, depth: number, record: Recording | null = null): Pull<void> {
    const stack = this.stack
    let top = 0
    let state = S_VALUE
    let key = false
    let num = 0
    let literal: Uint8Array = EMPTY
    let literalAt = 0
    let hexLeft = 0
    let escapeAt = 0
    for (;;) {
      if (this.at >= this.buf.length && !(yield * this.more())) {
        if (state === S_NUMBER && top === 0 && (num === 2 || num === 3 || num === 5 || num === 8)) return
        this.ended(path)
      }
      const buf = this.buf
      const end = buf.length
      const from = this.at
      let i = from
      let done = false
      scan: while (i < end) {
        const c = buf[i] as number
        switch (state) {
          case S_STRING:
            while (i < end) {
              const d = buf[i] as number
              if (d === QUOTE || d === BACKSLASH) break
              if (d < 0x20) this.fail(path, 'control character in string', this.base + i)
              i++
            }
            if (i === end) break scan
            if (buf[i] === QUOTE) {
              i++
              if (key) state = S_COLON
              else if (top === 0) {
                done = true
                break scan
              } else state = S_AFTER
            } else {
              escapeAt = this.base + i
              i++
              state = S_ESCAPE
            }
            continue
          case S_ESCAPE:
            if (c === 0x75) {
              hexLeft = 4
              state = S_HEX
            } else if (ESCAPES[c] === undefined) {
              this.fail(path, 'bad escape', escapeAt)
            } else {
              state = S_STRING
            }
            i++
            continue
          case S_HEX:
            if (hexValue(c) < 0) this.fail(path, 'bad \\u escape', escapeAt)
            i++
            if (--hexLeft === 0) state = S_STRING
            continue
          case S_NUMBER: {
            const next = numberStep(num, c)
            if (next === NUM_BAD) this.fail(path, 'bad number', this.base + i)
            if (next === NUM_END) {
              if (top === 0) {
                done = true
                break scan
              }
              state = S_AFTER
              continue
            }
            num = next
            i++
            continue
          }
          case S_LITERAL:
            if (c !== literal[literalAt]) this.fail(path, 'bad literal', this.base + i - literalAt)
            i++
            if (++literalAt === literal.length) {
              if (top === 0) {
                done = true
                break scan
              }
              state = S_AFTER
            }
            continue
          default:
        }
        if (isWhitespace(c)) {
          i++
          continue
        }
        if ((state === S_VALUE_OR_CLOSE && c === 0x5d) || (state === S_KEY_OR_CLOSE && c === 0x7d)) {
          i++
          if (--top === 0) {
            done = true
            break scan
          }
          state = S_AFTER
          continue
        }
        switch (state) {
          case S_VALUE_OR_CLOSE:
          case S_VALUE:
            if (c === 0x7b || c === 0x5b) {
              if (depth + top + 1 > MAX_JSON_DEPTH) this.fail(path, `nested deeper than ${MAX_JSON_DEPTH}`, this.base + i)
              stack[top++] = c === 0x7b ? OBJECT : ARRAY
              state = c === 0x7b ? S_KEY_OR_CLOSE : S_VALUE_OR_CLOSE
            } else if (c === QUOTE) {
              key = false
              state = S_STRING
            } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
              num = numberStep(0, c)
              state = S_NUMBER
            } else if (LITERALS[c] !== undefined) {
              literal = LITERALS[c]
              literalAt = 1
              state = S_LITERAL
            } else {
              this.fail(path, `unexpected byte 0x${c.toString(16).padStart(2, '0')}`, this.base + i)
            }
            i++
            continue
          case S_KEY_OR_CLOSE:
          case S_KEY:
            if (c !== QUOTE) this.fail(path, 'expected a member name', this.base + i)
            key = true
            state = S_STRING
            i++
            continue
          case S_COLON:
            if (c !== 0x3a) this.fail(path, "expected ':'", this.base + i)
            key = false
            state = S_VALUE
            i++
            continue
          default: { // S_AFTER
            const container = stack[top - 1]
            if (c === 0x2c) {
              state = container === OBJECT ? S_KEY : S_VALUE
              i++
              continue
            }
            if ((c === 0x7d && container === OBJECT) || (c === 0x5d && container === ARRAY)) {
              i++
              if (--top === 0) {
                done = true
                break scan
              }
              continue
            }
            this.fail(path, container === OBJECT ? "expected ',' or '}'" : "expected ',' or ']'", this.base + i)
          }
        }
      }
      if (record !== null && i > from) {
        record.size += i - from
        if (record.size > record.max) record.over()
        record.parts.push(buf.slice(from, i))
      }
      this.at = i
      if (done) return
    }
  }

  /**
   * At a `"`: the string's content fed to `sink` in runs (escapes decoded to
   * their text), without holding the whole string.
   */
  * stringRuns (path: string, sink: { bytes: (run: Uint8Array) => void, text: (text: string) => void }): Pull<void> {
    this.at++
    for (;;) {
      if (!(yield * this.more())) this.ended(path)
      const buf = this.buf
      const from = this.at
      const quote = indexOf(buf, QUOTE, from)
      // Only up to the quote: a whole message in one buffer must not be searched to its end per string.
      const backslash = from + indexOf(buf.subarray(from, quote), BACKSLASH, 0)
      const stop = Math.min(quote, backslash)
      if (stop > from) sink.bytes(buf.subarray(from, stop))
      this.at = stop
      if (stop === buf.length) continue
      if (stop === quote) {
        this.at++
        return
      }
      sink.text(yield * this.escape(path))
    }
  }

  /** After the top-level value (whole input given): nothing but whitespace may follow. */
  * finish (path: string): Pull<void> {
    const c = yield * this.peek()
    if (c >= 0) this.fail(path, 'unexpected data after the value')
  }
}

function indexOf(buf: Uint8Array, byte: number, from: number): number {
  const at = buf.indexOf(byte, from)
  return at < 0 ? buf.length : at
}

function joinString(parts: ReadonlyArray<Uint8Array | string>): string {
  let out = ''
  let escaped = false
  let run: Uint8Array[] = []
  const flush = (): void => {
    if (run.length === 0) return
    out += Buffer.concat(run).toString('utf8')
    run = []
  }
  for (const part of parts) {
    if (typeof part === 'string') {
      flush()
      out += part
      escaped = true
    } else {
      run.push(part)
    }
  }
  flush()
  return escaped ? out.replace(LONE_SURROGATE, '\uFFFD') : out
}
