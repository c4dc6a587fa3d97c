const BYTES_PER_LINE = 16

function printable(byte: number): string {
  return byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : '.'
}

/**
 * Canonical hex dump, the `hexdump -C` line layout: 8-hex-digit offset, 16
 * bytes in two groups of 8, `|ascii|`. Unlike `hexdump -C` it never squeezes
 * repeated lines into `*` and prints no trailing offset line. Returns one
 * string per line (none for empty input).
 */
export function hexDump(bytes: Uint8Array, startOffset = 0): string[] {
  const lines: string[] = []
  for (let lineStart = 0; lineStart < bytes.length; lineStart += BYTES_PER_LINE) {
    let hex = ''
    let ascii = ''
    for (let i = 0; i < BYTES_PER_LINE; i++) {
      if (i === 8) hex += ' '
      const byte = bytes[lineStart + i]
      if (byte === undefined) {
        hex += '   '
      } else {
        hex += `${byte.toString(16).padStart(2, '0')} `
        ascii += printable(byte)
      }
    }
    const offset = (startOffset + lineStart).toString(16).padStart(8, '0')
    lines.push(`${offset}  ${hex} |${ascii}|`)
  }
  return lines
}
