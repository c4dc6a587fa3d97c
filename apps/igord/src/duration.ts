const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses SPEC §9 durations: `250ms`, `10s`, `1m`, `1h` and combinations such
 * as `1m30s`; a bare `0` is accepted (it disables leases). Returns milliseconds.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  const part = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy
  let total = 0
  let consumed = 0
  let match: RegExpExecArray | null
  while ((match = part.exec(trimmed)) !== null) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number)
    consumed = part.lastIndex
  }
  if (consumed === 0 || consumed !== trimmed.length || !Number.isFinite(total)) {
    throw new RangeError(`not a duration: ${JSON.stringify(text)} (use e.g. 250ms, 10s, 1m30s, 1h)`)
  }
  return total
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
