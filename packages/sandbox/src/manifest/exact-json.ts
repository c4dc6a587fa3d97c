/**
 * A strict RFC 8259 JSON reader that keeps number text, so 64-bit fields of the
 * manifest (e.g. `max_price_per_second`) are read exactly; `JSON.parse` would
 * round anything above 2^53. Objects become Maps (no prototype surprises such
 * as `__proto__`), duplicate keys are refused because their meaning is ambiguous.
 */

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject
export type JsonObject = Map<string, JsonValue>

/** A JSON number as written. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** Not JSON, or JSON we refuse (duplicate key, nesting too deep). The message says where. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError'
}

export const MAX_JSON_DEPTH = 64

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

export function parseJson(text: string): JsonValue {
  return new Parser(text).parseDocument()
}

/** The exact integer a JSON number denotes, or null when it has a fractional part (`1e3` → 1000n, `1.5` → null). */
export function jsonNumberToBigInt(number: JsonNumber): bigint | null {
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(number.text)
  if (match === null) return null
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match
  let digits = (whole + fraction).replace(/^0+(?=.)/, '')
  let exponent = Number(exponentText) - fraction.length
  if (exponent < 0) {
    const dropped = digits.slice(exponent)
    if (digits.length + exponent > 0 ? /[^0]/.test(dropped) : /[^0]/.test(digits)) return null
    digits = digits.length + exponent > 0 ? digits.slice(0, exponent) : '0'
    exponent = 0
  }
  // Far beyond any limit we compare against; keeps `1e999999999` or a million digits cheap.
  const value = digits.length + exponent > 400 ? 10n ** 400n : BigInt(digits) * 10n ** BigInt(exponent)
  return sign === '-' ? -value : value
}

class Parser {
  #pos = 0

  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.#skipWhitespace()
    const value = this.#value(0)
    this.#skipWhitespace()
    if (this.#pos < this.text.length) this.#fail(`unexpected ${this.#describe()} after the JSON value`)
    return value
  }

  #value(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.#fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`)
    const char = this.text[this.#pos]
    switch (char) {
      case '{': return this.#object(depth)
      case '[': return this.#array(depth)
      case '"': return this.#string()
      case 't': return this.#literal('true', true)
      case 'f': return this.#literal('false', false)
      case 'n': return this.#literal('null', null)
      default:
        if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.#number()
        return this.#fail(`unexpected ${this.#describe()}`)
    }
  }

  #object(depth: number): JsonObject {
    const object: JsonObject = new Map()
    this.#pos++
    this.#skipWhitespace()
    if (this.text[this.#pos] === '}') {
      this.#pos++
      return object
    }
    for (;;) {
      this.#skipWhitespace()
      if (this.text[this.#pos] !== '"') this.#fail(`expected a string key but found ${this.#describe()}`)
      const keyAt = this.#pos
      const key = this.#string()
      if (object.has(key)) {
        this.#pos = keyAt
        this.#fail(`duplicate key ${JSON.stringify(key)}`)
      }
      this.#skipWhitespace()
      this.#expect(':')
      this.#skipWhitespace()
      object.set(key, this.#value(depth + 1))
      this.#skipWhitespace()
      if (this.text[this.#pos] === ',') {
        this.#pos++
        continue
      }
      this.#expect('}')
      return object
    }
  }

  #array(depth: number): JsonValue[] {
    const array: JsonValue[] = []
    this.#pos++
    this.#skipWhitespace()
    if (this.text[this.#pos] === ']') {
      this.#pos++
      return array
    }
    for (;;) {
      this.#skipWhitespace()
      array.push(this.#value(depth + 1))
      this.#skipWhitespace()
      if (this.text[this.#pos] === ',') {
        this.#pos++
        continue
      }
      this.#expect(']')
      return array
    }
  }

  #string(): string {
    this.#pos++
    let out = ''
    let runStart = this.#pos
    for (;;) {
      const code = this.text.charCodeAt(this.#pos)
      if (Number.isNaN(code)) this.#fail('unterminated string')
      if (code === 0x22) break
      if (code < 0x20) this.#fail('control character in string')
      if (code !== 0x5c) {
        this.#pos++
        continue
      }
      out += this.text.slice(runStart, this.#pos)
      const escape = this.text[this.#pos + 1]
      if (escape === 'u') {
        const hex = this.text.slice(this.#pos + 2, this.#pos + 6)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.#fail('bad \\u escape')
        out += String.fromCharCode(parseInt(hex, 16))
        this.#pos += 6
      } else {
        const replacement = escape === undefined ? undefined : ESCAPES[escape]
        if (replacement === undefined) this.#fail('bad escape in string')
        out += replacement
        this.#pos += 2
      }
      runStart = this.#pos
    }
    out += this.text.slice(runStart, this.#pos)
    this.#pos++
    return out
  }

  #number(): JsonNumber {
    NUMBER.lastIndex = this.#pos
    const match = NUMBER.exec(this.text)
    if (match === null) return this.#fail('bad number')
    this.#pos += match[0].length
    const next = this.text[this.#pos]
    if (next !== undefined && /[0-9.eE+-]/.test(next)) this.#fail('bad number')
    return new JsonNumber(match[0])
  }

  #literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.#pos)) this.#fail(`unexpected ${this.#describe()}`)
    this.#pos += word.length
    return value
  }

  #expect(char: string): void {
    if (this.text[this.#pos] !== char) this.#fail(`expected '${char}' but found ${this.#describe()}`)
    this.#pos++
  }

  #skipWhitespace(): void {
    while (this.#pos < this.text.length) {
      const char = this.text[this.#pos]
      if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') return
      this.#pos++
    }
  }

  #describe(): string {
    const char = this.text[this.#pos]
    if (char === undefined) return 'end of input'
    return `character ${JSON.stringify(char)}`
  }

  #fail(message: string): never {
    const before = this.text.slice(0, this.#pos)
    const line = before.split('\n').length
    const column = this.#pos - before.lastIndexOf('\n')
    throw new JsonSyntaxError(this.#pos >= this.text.length ? message : `${message} at line ${line} column ${column}`)
  }
}
