/**
 * Strict streaming base64 (a Go `[]byte` field): the text must be exactly
 * what Go's `StdEncoding` writes for the decoded bytes — padded, standard
 * alphabet, nothing else. Runs of text arrive in any sizes; every complete
 * quad but the last four characters is decoded at once (native decoder,
 * bounded slices), so the field costs its decoded size, never its text.
 *
 * Node's decoder skips characters outside the alphabet and stops at the
 * first `=`, so any of those leaves a slice short of the length its text
 * promises; it accepts the URL-safe `-` and `_`, which are looked for
 * natively; `=` may only close the last quad, and the unused bits before it
 * must be zero.
 */
export interface Base64Ledger {
  /** Counts `bytes` of decoded output against the admission's memory ceilings; throws when over. */
  take(bytes: number): void
  give(bytes: number): void
}

/** Characters decoded per step (a multiple of 4). */
const SLICE = 4 * 1024 * 1024

export class Base64Sink {
  private pending = ''
  private broken = false
  private length = 0
  private readonly pieces: Uint8Array[] = []
  private size = 0

  constructor(
    private readonly fail: (reason: string) => never,
    private readonly maxBytes: number,
    private readonly tooLarge: (max: number) => never,
    private readonly ledger: Base64Ledger | null
  ) {}

  /** Raw bytes of the string's text (ASCII expected; anything else fails). */
  bytes(run: Uint8Array): void {
    for (let at = 0; at < run.length; at += SLICE) {
      this.text(Buffer.from(run.buffer, run.byteOffset + at, Math.min(SLICE, run.length - at)).toString('latin1'))
    }
  }

  /** Decoded text of the string (escapes). */
  text(text: string): void {
    this.length += text.length
    // The decoded size is known from the text: refuse before decoding past the cap.
    if (Math.floor(this.length / 4) * 3 - 2 > this.maxBytes) this.tooLarge(this.maxBytes)
    // A quad closed by `=` with more text after it: invalid, whatever follows (the verdict waits for the length).
    if (this.broken) return
    if (this.pending.length >= 4) {
      this.broken = true
      return
    }
    let body = text
    if (this.pending.length > 0) {
      // Complete the pending characters to whole quads from the head of the new text (small strings only).
      const take = Math.min(body.length, (4 - (this.pending.length % 4)) % 4)
      const head = this.pending + body.slice(0, take)
      body = body.slice(take)
      this.pending = ''
      if (body.length === 0) {
        this.hold(head)
        return
      }
      if (head.charCodeAt(head.length - 1) === 0x3d) {
        this.broken = true
        return
      }
      this.decode(head, 0)
    }
    this.hold(body)
  }

  /**
   * Decodes every whole quad of `text` but keeps the last quad when it holds
   * `=` (it may close the string) and the characters past the last quad.
   */
  private hold(text: string): void {
    let whole = text.length - (text.length % 4)
    if (whole > 0 && text.charCodeAt(whole - 1) === 0x3d) whole -= 4
    if (whole > 0) this.decode(text.slice(0, whole), 0)
    this.pending = text.slice(whole)
  }

  /** The string ended: the last quad (with its padding), and the bytes as one array that owns its memory. */
  finish(): Uint8Array {
    if (this.length % 4 !== 0) this.fail(`not base64 (length ${this.length} is not a multiple of 4)`)
    if (this.broken) this.fail('not base64')
    const last = this.pending
    this.pending = ''
    if (last.length > 0) {
      const padding = last.endsWith('==') ? 2 : last.endsWith('=') ? 1 : 0
      if (!this.decode(last, padding)) this.fail('not base64')
      if (padding > 0) {
        const c = sextet(last.charCodeAt(last.length - 1 - padding))
        if ((c & (padding === 1 ? 0x03 : 0x0f)) !== 0) this.fail('not base64')
      }
    }
    if (this.size > this.maxBytes) this.tooLarge(this.maxBytes)
    const only = this.pieces.length === 1 ? this.pieces[0] as Uint8Array : null
    if (only !== null && only.byteOffset === 0 && only.buffer.byteLength === only.byteLength) return only
    this.ledger?.take(this.size)
    const out = new Uint8Array(this.size)
    let at = 0
    for (const piece of this.pieces) {
      out.set(piece, at)
      at += piece.byteLength
    }
    this.pieces.length = 0
    this.ledger?.give(this.size)
    return out
  }

  /**
   * Decodes whole quads. Bad text marks the string broken instead of failing
   * at once, so the verdict is the same however the text was split: the length
   * rule first, then "not base64" (`finish`); nothing more is decoded or kept.
   */
  private decode(text: string, padding: number): boolean {
    if (this.broken) return false
    const expected = (text.length / 4) * 3 - padding
    this.ledger?.take(expected)
    const out = new Uint8Array(expected)
    const written = Buffer.from(out.buffer).write(text, 'base64')
    if (written !== expected || text.includes('-') || text.includes('_')) {
      this.ledger?.give(expected + this.size)
      this.pieces.length = 0
      this.size = 0
      this.broken = true
      return false
    }
    this.pieces.push(out)
    this.size += expected
    return true
  }
}

/**
 * A whole unescaped base64 string in one buffer (`src[from, to)`), decoded in
 * place of a `Base64Sink`: the same rules, one output array, no pieces.
 */
export function decodeBase64Whole(
  src: Uint8Array,
  from: number,
  to: number,
  maxBytes: number,
  fail: (reason: string) => never,
  tooLarge: (max: number) => never,
  ledger: Base64Ledger | null
): Uint8Array {
  const length = to - from
  // The order of the verdicts is a Base64Sink's, so whole or split the same text gets the same answer.
  if (Math.floor(length / 4) * 3 - 2 > maxBytes) tooLarge(maxBytes)
  if (length % 4 !== 0) fail(`not base64 (length ${length} is not a multiple of 4)`)
  if (length === 0) return new Uint8Array(0)
  const padding = src[to - 1] === 0x3d ? (src[to - 2] === 0x3d ? 2 : 1) : 0
  const size = (length / 4) * 3 - padding
  ledger?.take(size)
  const out = new Uint8Array(size)
  const outBuf = Buffer.from(out.buffer)
  let at = 0
  for (let i = from; i < to; i += SLICE) {
    at += outBuf.write(Buffer.from(src.buffer, src.byteOffset + i, Math.min(SLICE, to - i)).toString('latin1'), at, 'base64')
  }
  if (at !== size) fail('not base64')
  const text = src.subarray(from, to)
  if (text.indexOf(0x2d) >= 0 || text.indexOf(0x5f) >= 0) fail('not base64')
  if (padding > 0 && (sextet(src[to - 1 - padding] as number) & (padding === 1 ? 0x03 : 0x0f)) !== 0) fail('not base64')
  if (size > maxBytes) tooLarge(maxBytes)
  return out
}

/** Value of one standard-alphabet base64 character. */
function sextet(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52
  return c === 0x2b ? 62 : 63
}
