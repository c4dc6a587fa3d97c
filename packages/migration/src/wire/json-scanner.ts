/**
 * Finds where one top-level JSON object ends in a byte stream, without
 * parsing it: depth of `{`/`[` outside strings, with string and escape state
 * carried across chunk boundaries. This is how a reader knows the message is
 * complete while the peer keeps the stream open (as Go's `json.Decoder` does).
 * Validation is the decoder's job; this only has to be right for valid JSON
 * and terminate for anything else.
 */
export class JsonObjectScanner {
  private depth = 0
  private inString = false
  private escape = false
  private started = false

  /** True once a non-whitespace byte has been seen. */
  get sawContent(): boolean {
    return this.started
  }

  /**
   * Scans `chunk[0, limit)`. Returns the index just past the closing `}` when
   * the object completes inside it, -1 when more bytes are needed, and -2 when
   * the first non-whitespace byte is not `{`.
   */
  feed(chunk: Uint8Array, limit: number = chunk.length): number {
    let depth = this.depth
    let inString = this.inString
    let escape = this.escape
    let i = 0
    if (!this.started) {
      while (i < limit && isWhitespace(chunk[i] as number)) i++
      if (i === limit) return -1
      if (chunk[i] !== 0x7b) return -2
      this.started = true
    }
    // Inside strings (megabytes of base64) the next quote and backslash are
    // found with native byte search; positions only move forward, so each
    // search covers new bytes and the whole scan stays linear.
    let nextQuote = -1
    let nextBackslash = -1
    for (; i < limit; i++) {
      const c = chunk[i] as number
      if (inString) {
        if (escape) {
          escape = false
          continue
        }
        if (nextQuote < i) nextQuote = find(chunk, 0x22, i, limit)
        if (nextBackslash < i) nextBackslash = find(chunk, 0x5c, i, limit)
        if (nextBackslash < nextQuote) {
          escape = true
          i = nextBackslash
        } else if (nextQuote < limit) {
          inString = false
          i = nextQuote
        } else {
          i = limit
        }
        continue
      }
      if (c === 0x22) inString = true
      else if (c === 0x7b || c === 0x5b) depth++
      else if (c === 0x7d || c === 0x5d) {
        depth--
        if (depth === 0) {
          this.depth = 0
          this.inString = false
          this.escape = false
          return i + 1
        }
      }
    }
    this.depth = depth
    this.inString = inString
    this.escape = escape
    return -1
  }
}

/** Index of `byte` in `chunk[from, limit)`, or `limit` when absent. */
function find(chunk: Uint8Array, byte: number, from: number, limit: number): number {
  const at = chunk.indexOf(byte, from)
  return at < 0 || at >= limit ? limit : at
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}
