/**
 * Sizes on the command line (SPEC §11: `--agent-disk-quota 100MiB`, `1GiB`):
 * a whole number of bytes, or a number with a binary unit (KiB, MiB, GiB,
 * TiB). Anything else is refused with the accepted forms.
 */
const UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 }

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?$/.exec(text.trim())
  if (match === null) throw new RangeError(`must be a size like 512MiB, 1GiB or a number of bytes, got ${JSON.stringify(text)}`)
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2] ?? 'B']!)
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`is too large: ${JSON.stringify(text)}`)
  return bytes
}

/** The same, at least `min` bytes. */
export function parseSizeAtLeast(min: number): (text: string) => number {
  return (text) => {
    const bytes = parseSize(text)
    if (bytes < min) throw new RangeError(`must be at least ${min} bytes, got ${JSON.stringify(text)}`)
    return bytes
  }
}
