/**
 * Writing JSON the way Go's `encoding/json` does (SPEC §7: the byte layout of
 * the reference implementation), into one exactly sized buffer.
 */

const HEX = '0123456789abcdef'
/** Printable ASCII that Go writes as is (it HTML-escapes `<`, `>`, `&` by default). */
const PLAIN = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/

/**
 * A JSON string literal exactly as Go's `json.Encoder` (Go ≥ 1.22, HTML
 * escaping on) writes it: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
 * control characters and `<`, `>`, `&` as `\u00XX`, U+2028/U+2029 escaped,
 * unpaired surrogates as `\ufffd`, everything else raw.
 */
export function goQuote(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      switch (c) {
        case 0x22: out += '\\"'; continue
        case 0x5c: out += '\\\\'; continue
        case 0x08: out += '\\b'; continue
        case 0x0c: out += '\\f'; continue
        case 0x0a: out += '\\n'; continue
        case 0x0d: out += '\\r'; continue
        case 0x09: out += '\\t'; continue
      }
      if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) {
        out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`
      } else {
        out += s[i]
      }
      continue
    }
    if (c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16)}`
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i] as string + s[i + 1]
        i++
      } else {
        out += '\\ufffd'
      }
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\\ufffd'
    } else {
      out += s[i]
    }
  }
  return out + '"'
}

/** Base64 characters for `n` bytes, padded (Go's `StdEncoding`, as `[]byte` fields are written). */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4
}

/** Bytes encoded per slice, a multiple of 3 so slices concatenate into one valid base64 text. */
const BASE64_SLICE = 3 * 1024 * 1024

type Part = { readonly text: string; readonly bytes: number } | { readonly base64: Uint8Array; readonly bytes: number }

/**
 * Collects JSON text and base64 fields, then writes them into one buffer of
 * the exact final size: each payload byte is read once to base64 it (in
 * 3 MiB slices, so no string near V8's length limit is ever built) and copied
 * once into place.
 */
export class JsonOutput {
  private readonly parts: Part[] = []
  private size = 0

  /** Raw JSON text (punctuation, names, quoted strings, numbers). */
  text(text: string): this {
    const bytes = Buffer.byteLength(text, 'utf8')
    this.parts.push({ text, bytes })
    this.size += bytes
    return this
  }

  /** A byte field as a quoted base64 string. */
  base64(value: Uint8Array): this {
    const bytes = base64Length(value.length) + 2
    this.parts.push({ base64: value, bytes })
    this.size += bytes
    return this
  }

  toBytes(): Uint8Array {
    const out = Buffer.allocUnsafeSlow(this.size)
    let at = 0
    for (const part of this.parts) {
      if ('text' in part) {
        at += out.write(part.text, at, 'utf8')
        continue
      }
      out[at++] = 0x22
      const src = Buffer.from(part.base64.buffer, part.base64.byteOffset, part.base64.byteLength)
      for (let from = 0; from < src.length; from += BASE64_SLICE) {
        const slice = src.toString('base64', from, Math.min(from + BASE64_SLICE, src.length))
        at += out.write(slice, at, 'latin1')
      }
      out[at++] = 0x22
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length)
  }
}
