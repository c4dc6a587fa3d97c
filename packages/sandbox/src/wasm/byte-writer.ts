/** A growable byte buffer for module rewriting: no `number[]` of a module's size is ever built. */
export class ByteWriter {
  private buffer: Uint8Array<ArrayBuffer>
  length = 0

  constructor(capacity = 1024) {
    this.buffer = new Uint8Array(Math.max(16, capacity))
  }

  byte(value: number): void {
    this.reserve(1)
    this.buffer[this.length++] = value
  }

  bytes(values: Uint8Array | readonly number[]): void {
    this.reserve(values.length)
    this.buffer.set(values, this.length)
    this.length += values.length
  }

  /** Shortest unsigned LEB128 of a u32. */
  u32(value: number): void {
    let rest = value >>> 0
    do {
      let byte = rest & 0x7f
      rest >>>= 7
      if (rest !== 0) byte |= 0x80
      this.byte(byte)
    } while (rest !== 0)
  }

  /** A non-negative i32 as a signed LEB128 padded to 5 bytes, patched later with `patchPaddedI32`. */
  paddedI32(value: number): number {
    const at = this.length
    this.reserve(5)
    this.length += 5
    this.patchPaddedI32(at, value)
    return at
  }

  patchPaddedI32(at: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fff_ffff) throw new RangeError(`not a non-negative i32: ${value}`)
    let rest = value
    for (let i = 0; i < 4; i++) {
      this.buffer[at + i] = (rest & 0x7f) | 0x80
      rest >>>= 7
    }
    this.buffer[at + 4] = rest & 0x7f // bit 6 clear: non-negative
  }

  /** A section or body: its contents written by `write`, prefixed with their size. */
  sized(write: (out: ByteWriter) => void): void {
    const inner = new ByteWriter()
    write(inner)
    this.u32(inner.length)
    this.bytes(inner.view())
  }

  /** Empties the writer, keeping its buffer (scratch writers reused per function body). */
  reset(): void {
    this.length = 0
  }

  view(): Uint8Array<ArrayBuffer> {
    return this.buffer.subarray(0, this.length)
  }

  /** A fresh copy backed by its own ArrayBuffer. */
  toBytes(): Uint8Array<ArrayBuffer> {
    return this.buffer.slice(0, this.length)
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return
    let size = this.buffer.length * 2
    while (size < this.length + extra) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buffer.subarray(0, this.length))
    this.buffer = next
  }
}
