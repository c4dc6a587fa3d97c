// SPEC §12 (ours, issue 21 item 2): `--history-keep <all|duration|count>` —
// which whole history segments may go. The default keeps 7 days.
import { RunnerError } from '../errors.js'

export type HistoryKeep =
  | { readonly kind: 'all' }
  | { readonly kind: 'duration', readonly ms: number }
  | { readonly kind: 'count', readonly count: number }

export const DEFAULT_HISTORY_KEEP: HistoryKeep = { kind: 'duration', ms: 7 * 24 * 3600 * 1000 }

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

/**
 * `all`; a duration `<n><ms|s|m|h|d|w>` (e.g. `7d`, `36h`); or a count, a bare
 * positive integer (the newest N checkpoints, N ≥ 1). One-line reason otherwise.
 */
export function parseHistoryKeep(text: string): HistoryKeep {
  const value = text.trim()
  if (value === 'all') return { kind: 'all' }
  if (/^\d+$/.test(value)) {
    const count = Number(value)
    if (!Number.isSafeInteger(count) || count < 1) throw new RunnerError('HISTORY_KEEP_INVALID', `--history-keep ${text}: a count must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`)
    return { kind: 'count', count }
  }
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value)
  if (match === null) throw new RunnerError('HISTORY_KEEP_INVALID', `--history-keep ${text}: expected all, a duration like 7d or 36h, or a count of checkpoints like 1000`)
  const ms = Math.round(Number(match[1]) * UNITS[match[2]!]!)
  if (!Number.isSafeInteger(ms) || ms < 1000) throw new RunnerError('HISTORY_KEEP_INVALID', `--history-keep ${text}: a duration must be at least 1s`)
  return { kind: 'duration', ms }
}

export function describeHistoryKeep(keep: HistoryKeep): string {
  switch (keep.kind) {
    case 'all': return 'all'
    case 'count': return `the newest ${keep.count} checkpoints`
    case 'duration': return `${keep.ms / 1000}s`
  }
}

/** What retention needs to know of one segment, oldest first. */
export interface SegmentFacts {
  readonly name: string
  /** From the header (when it was started). */
  readonly createdAtMs: number
  /** Distinct ticks in it (count mode only; undefined otherwise). */
  readonly ticks?: ReadonlySet<bigint> | undefined
}

/**
 * How many of the oldest segments retention deletes (never the newest one):
 * - duration: segment i's records were all written before segment i+1 began,
 *   so it goes when segment i+1 began before `now - ms`;
 * - count: the oldest go while the newer ones still hold `count` distinct ticks.
 */
export function segmentsToDrop(segments: readonly SegmentFacts[], keep: HistoryKeep, nowMs: number): number {
  if (keep.kind === 'all' || segments.length < 2) return 0
  let drop = 0
  if (keep.kind === 'duration') {
    while (drop < segments.length - 1 && segments[drop + 1]!.createdAtMs <= nowMs - keep.ms) drop++
    return drop
  }
  const newer = new Set<bigint>()
  // Distinct ticks from the newest down; a segment may go once the ones after it hold `count`.
  const heldAfter: number[] = new Array<number>(segments.length).fill(0)
  for (let i = segments.length - 1; i >= 0; i--) {
    heldAfter[i] = newer.size
    for (const tick of segments[i]!.ticks ?? []) newer.add(tick)
  }
  while (drop < segments.length - 1 && heldAfter[drop]! >= keep.count) drop++
  return drop
}
