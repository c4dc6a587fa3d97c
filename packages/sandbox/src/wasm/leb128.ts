/**
 * Just enough of the WebAssembly binary encoding to walk sections
 * (unsigned LEB128). Malformed input raises `WasmFormatError` with the offset.
 */

export class WasmFormatError extends Error {
  override readonly name = 'WasmFormatError'
}

export interface Decoded<T> {
  value: T
  /** Offset just past the encoded value. */
  next: number
}

/** Reads an unsigned LEB128 of at most `bits` bits (32 or 64) at `offset`. */
export function readUnsigned(bytes: Uint8Array, offset: number, bits: 32 | 64): Decoded<bigint> {
  const maxLength = Math.ceil(bits / 7)
  let value = 0n
  for (let i = 0; i < maxLength; i++) {
    const byte = bytes[offset + i]
    if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${offset + i}`)
    value |= BigInt(byte & 0x7f) << BigInt(7 * i)
    if ((byte & 0x80) === 0) {
      if (value >> BigInt(bits) !== 0n) throw new WasmFormatError(`integer too large at offset ${offset}`)
      return { value, next: offset + i + 1 }
    }
  }
  throw new WasmFormatError(`integer too long at offset ${offset}`)
}

/** `readUnsigned(…, 32)` in plain numbers (no BigInt: module walks read millions of these). */
export function readU32(bytes: Uint8Array, offset: number): Decoded<number> {
  let value = 0
  let scale = 1
  for (let i = 0; i < 5; i++) {
    const byte = bytes[offset + i]
    if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${offset + i}`)
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      if (value > 0xffff_ffff) throw new WasmFormatError(`integer too large at offset ${offset}`)
      return { value, next: offset + i + 1 }
    }
    scale *= 128
  }
  throw new WasmFormatError(`integer too long at offset ${offset}`)
}

/** Skips a signed LEB128 of at most 33 bits (a heap type). */
export function skipS33(bytes: Uint8Array, offset: number): number {
  for (let i = 0; i < 5; i++) {
    const byte = bytes[offset + i]
    if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${offset + i}`)
    if ((byte & 0x80) === 0) return offset + i + 1
  }
  throw new WasmFormatError(`integer too long at offset ${offset}`)
}

/** The shortest unsigned LEB128 encoding of a u32. */
export function encodeU32(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`not a u32: ${value}`)
  const out: number[] = []
  let rest = value
  do {
    let byte = rest & 0x7f
    rest = Math.floor(rest / 128)
    if (rest !== 0) byte |= 0x80
    out.push(byte)
  } while (rest !== 0)
  return out
}
