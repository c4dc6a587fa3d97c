import type { HistoryMinFree } from '@igor/runner'

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

/**
 * `--history-min-free` (ours, issue 21): `auto`, `off` (or `0`), a percentage
 * of the filesystem (`5%`, above 0 and below 100), or a size as above.
 */
export function parseHistoryMinFree(text: string): HistoryMinFree {
  const value = text.trim()
  if (value === 'auto' || value === 'off') return { kind: value }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(value)
  if (percent !== null) {
    const n = Number(percent[1])
    if (!(n > 0 && n < 100)) throw new RangeError(`a percentage must be above 0 and below 100, got ${JSON.stringify(text)}`)
    return { kind: 'percent', percent: n }
  }
  let bytes: number
  try {
    bytes = parseSize(value)
  } catch {
    throw new RangeError(`must be auto, off, a percentage of the filesystem like 5% or a size like 20GiB, got ${JSON.stringify(text)}`)
  }
  return bytes === 0 ? { kind: 'off' } : { kind: 'bytes', bytes }
}

/** The same, at least `min` bytes. */
export function parseSizeAtLeast(min: number): (text: string) => number {
  return (text) => {
    const bytes = parseSize(text)
    if (bytes < min) throw new RangeError(`must be at least ${min} bytes, got ${JSON.stringify(text)}`)
    return bytes
  }
}
