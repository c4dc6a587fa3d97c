// SPEC §16 Placement: the wait before retrying the same target — 1 s, 2 s, 4 s … capped at 30 s.

export const PLACEMENT_BACKOFF_BASE_MS = 1_000
export const PLACEMENT_BACKOFF_CAP_MS = 30_000
/** SPEC §16: attempts per target. */
export const PLACEMENT_ATTEMPTS_PER_TARGET = 3

/**
 * The wait before retry number `retry` (0 = the wait after the first failed
 * attempt): `base · 2^retry`, never above `cap`. Any `retry` (even huge or not
 * an integer) gives a finite value in `[base, cap]`.
 */
export function backoffMs(retry: number, base: number = PLACEMENT_BACKOFF_BASE_MS, cap: number = PLACEMENT_BACKOFF_CAP_MS): number {
  if (Number.isNaN(retry) || retry <= 0) return Math.min(cap, base)
  const n = Math.floor(retry)
  if (n >= 52) return cap
  return Math.min(cap, base * 2 ** n)
}
