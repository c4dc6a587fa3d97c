// Test helper: lower-case hex of bytes.
export function hex(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; i++) {
    const v = <u32>b[i];
    out += String.fromCharCode(v >> 4 < 10 ? 0x30 + (v >> 4) : 0x57 + (v >> 4));
    out += String.fromCharCode((v & 15) < 10 ? 0x30 + (v & 15) : 0x57 + (v & 15));
  }
  return out;
}

export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}
