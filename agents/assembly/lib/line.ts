// Builds one ASCII log line in a static buffer and hands it to igor.log_emit.
// No strings are allocated, so logging every tick does not grow memory.
import { log_emit } from "@igor/sdk/host";

const CAPACITY: i32 = 256;
const LINE: usize = memory.data(CAPACITY);
const DIGITS: usize = memory.data(20);
let length: i32 = 0;

function put(byte: u32): void {
  // Overlong lines are cut, never written past the buffer.
  if (length < CAPACITY) {
    store<u8>(LINE + <usize>length, <u8>byte);
    length++;
  }
}

export function lineStart(): void {
  length = 0;
}

// ASCII text only (agent source literals).
export function lineText(text: string): void {
  for (let i = 0; i < text.length; i++) put(<u32>text.charCodeAt(i) & 0x7f);
}

export function lineU64(value: u64): void {
  // Up to 20 decimal digits, produced right to left.
  let n = 0;
  do {
    store<u8>(DIGITS + <usize>n, <u8>(0x30 + <u32>(value % 10)));
    value /= 10;
    n++;
  } while (value != 0);
  while (n > 0) {
    n--;
    put(<u32>load<u8>(DIGITS + <usize>n));
  }
}

export function lineI64(value: i64): void {
  if (value < 0) {
    put(0x2d); // '-'
    lineU64(<u64>0 - <u64>value); // exact for i64.MIN_VALUE too
  } else {
    lineU64(<u64>value);
  }
}

// Exactly 16 lowercase hex digits.
export function lineHex64(value: u64): void {
  for (let shift = 60; shift >= 0; shift -= 4) {
    const nibble = <u32>((value >> <u64>shift) & 0xf);
    put(nibble < 10 ? 0x30 + nibble : 0x57 + nibble);
  }
}

// Nanoseconds as seconds with one decimal, truncated toward zero: "11.0".
export function lineSeconds1(ns: i64): void {
  let tenths = ns / 100_000_000;
  if (tenths < 0) {
    put(0x2d);
    tenths = -tenths;
  }
  lineU64(<u64>(tenths / 10));
  put(0x2e); // '.'
  put(0x30 + <u32>(tenths % 10));
}

export function lineEmit(): void {
  log_emit(LINE, length);
}
