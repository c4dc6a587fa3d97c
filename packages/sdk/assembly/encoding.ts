// Encoder / Decoder: the agent-state byte format of the reference Go SDK
// (SPEC §13 "SDK byte formats"). Little-endian; bytes(b) = u32 length ‖ b;
// string(s) = bytes(utf8(s)); bool = one byte 0/1; raw(b) = b.

/** Appends values to a growing byte buffer. Methods chain: `e.uint64(n).uint32(m)`. */
export class Encoder {
  private buf: Uint8Array;
  private len: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buf = new Uint8Array(max(capacity, 16));
  }

  /** Bytes written so far. */
  get length(): i32 {
    return this.len;
  }

  private reserve(n: i32): usize {
    const need = this.len + n;
    if (need > this.buf.length) {
      let cap = this.buf.length << 1;
      while (cap < need) cap <<= 1;
      const grown = new Uint8Array(cap);
      memory.copy(grown.dataStart, this.buf.dataStart, <usize>this.len);
      this.buf = grown;
    }
    const at = this.buf.dataStart + <usize>this.len;
    this.len = need;
    return at;
  }

  uint64(v: u64): Encoder {
    store<u64>(this.reserve(8), v);
    return this;
  }

  int64(v: i64): Encoder {
    store<i64>(this.reserve(8), v);
    return this;
  }

  uint32(v: u32): Encoder {
    store<u32>(this.reserve(4), v);
    return this;
  }

  int32(v: i32): Encoder {
    store<i32>(this.reserve(4), v);
    return this;
  }

  uint8(v: u8): Encoder {
    store<u8>(this.reserve(1), v);
    return this;
  }

  bool(v: bool): Encoder {
    store<u8>(this.reserve(1), v ? 1 : 0);
    return this;
  }

  /** u32 length, then the bytes. */
  bytes(v: Uint8Array): Encoder {
    this.uint32(<u32>v.length);
    return this.raw(v);
  }

  /** u32 length, then the UTF-8 bytes. */
  string(v: string): Encoder {
    return this.bytes(Uint8Array.wrap(String.UTF8.encode(v)));
  }

  /** The bytes as they are, no length prefix (fixed-size fields). */
  raw(v: Uint8Array): Encoder {
    const n = v.length;
    memory.copy(this.reserve(n), v.dataStart, <usize>n);
    return this;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * Reads what an Encoder wrote. A short read returns zero values from then on
 * and sets a sticky error (`failed`), as the reference Decoder does; `bool` is
 * true for any non-zero byte.
 */
export class Decoder {
  private pos: i32 = 0;
  private err: bool = false;

  constructor(private data: Uint8Array) {}

  /** True once any read ran past the end. */
  get failed(): bool {
    return this.err;
  }

  /** Bytes not read yet. */
  get remaining(): i32 {
    return this.data.length - this.pos;
  }

  /** Position of the next byte to read. */
  get offset(): i32 {
    return this.pos;
  }

  private take(n: i32): usize {
    if (this.err || n < 0 || n > this.data.length - this.pos) {
      this.err = true;
      return 0;
    }
    const at = this.data.dataStart + <usize>this.pos;
    this.pos += n;
    return at;
  }

  uint64(): u64 {
    const at = this.take(8);
    return at == 0 ? 0 : load<u64>(at);
  }

  int64(): i64 {
    const at = this.take(8);
    return at == 0 ? 0 : load<i64>(at);
  }

  uint32(): u32 {
    const at = this.take(4);
    return at == 0 ? 0 : load<u32>(at);
  }

  int32(): i32 {
    const at = this.take(4);
    return at == 0 ? 0 : load<i32>(at);
  }

  uint8(): u8 {
    const at = this.take(1);
    return at == 0 ? 0 : load<u8>(at);
  }

  bool(): bool {
    const at = this.take(1);
    return at == 0 ? false : load<u8>(at) != 0;
  }

  /** A u32 length, then that many bytes (a copy); empty on a short read. */
  bytes(): Uint8Array {
    const n = this.uint32();
    if (this.err || n > <u32>this.remaining) {
      this.err = true;
      return new Uint8Array(0);
    }
    return this.fixedBytes(<i32>n);
  }

  /** A length-prefixed UTF-8 string; "" on a short read. */
  string(): string {
    const b = this.bytes();
    if (this.err) return "";
    return String.UTF8.decodeUnsafe(b.dataStart, <usize>b.length);
  }

  /** Exactly n bytes, no prefix (what `raw` wrote); empty on a short read. */
  fixedBytes(n: i32): Uint8Array {
    const at = this.take(n);
    if (at == 0) return new Uint8Array(0);
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, at, <usize>n);
    return out;
  }
}
