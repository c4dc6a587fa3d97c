import { decimalFraction, msToNs } from './decimal.js'

/** Lease timing (SPEC §3 "Lease"). All three are plain numbers, as given on the CLI. */
export interface LeaseConfig {
  /** Lease length in milliseconds; > 0 and finite. (CLI `--lease-duration 0` means `Lease.unbounded`.) */
  readonly durationMs: number
  /** Renew when remaining time ≤ duration × renewalWindow; strictly inside (0, 1). */
  readonly renewalWindow: number
  /** How long after expiry ticking is still allowed; ≥ 0 and finite. */
  readonly gracePeriodMs: number
}

export const DEFAULT_LEASE_CONFIG: Readonly<LeaseConfig> = Object.freeze({
  durationMs: 60_000,
  renewalWindow: 0.5,
  gracePeriodMs: 10_000
})

function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : `${typeof value} ${String(value)}`
}

/**
 * Checks a config and returns a frozen copy. Throws `RangeError` whose message
 * starts with the offending field (SPEC §3, §10 "refuse before anything starts").
 */
export function validateLeaseConfig(config: LeaseConfig): Readonly<LeaseConfig> {
  if (typeof config !== 'object' || config === null) {
    throw new RangeError(`lease config must be an object, got ${show(config)}`)
  }
  const { durationMs, renewalWindow, gracePeriodMs } = config as { [K in keyof LeaseConfig]: unknown }
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs <= 0) {
    throw new RangeError(`durationMs must be a finite number > 0, got ${show(durationMs)}`)
  }
  // Below one nanosecond the lease would be zero long once converted to ns.
  if (msToNs(durationMs) === 0n) {
    throw new RangeError(`durationMs must be at least 0.000001 (1 ns), got ${show(durationMs)}`)
  }
  if (typeof renewalWindow !== 'number' || !(renewalWindow > 0 && renewalWindow < 1)) {
    throw new RangeError(`renewalWindow must be strictly between 0 and 1, got ${show(renewalWindow)}`)
  }
  if (typeof gracePeriodMs !== 'number' || !Number.isFinite(gracePeriodMs) || gracePeriodMs < 0) {
    throw new RangeError(`gracePeriodMs must be a finite number >= 0, got ${show(gracePeriodMs)}`)
  }
  return Object.freeze({ durationMs, renewalWindow, gracePeriodMs })
}

/**
 * The renewal threshold in whole nanoseconds: `floor(durationNs × renewalWindow)`,
 * computed exactly in `bigint` with the window read as the decimal it prints as
 * (so 60 s × 0.3 is exactly 18 000 000 000 ns). Because the remaining time is a
 * whole number of ns, `remaining ≤ threshold` is the same test as
 * `remaining ≤ duration × window` over the reals — no rounding decides it.
 */
export function renewalThresholdNs(config: LeaseConfig): bigint {
  const valid = validateLeaseConfig(config)
  const window = decimalFraction(valid.renewalWindow)
  return (msToNs(valid.durationMs) * window.num) / window.den
}

export { msToNs }
