// Exact text forms for 64-bit values: bigint arithmetic only, never floating point.

const MICROCENTS_PER_UNIT = 1_000_000n
const NANOS_PER_SECOND = 1_000_000_000n

/** `2000000n` → `2.000000` (1 unit = 1 000 000 microcents, SPEC §4). */
export function formatMicrocents(microcents: bigint): string {
  const sign = microcents < 0n ? '-' : ''
  const abs = microcents < 0n ? -microcents : microcents
  const fraction = (abs % MICROCENTS_PER_UNIT).toString().padStart(6, '0')
  return `${sign}${abs / MICROCENTS_PER_UNIT}.${fraction}`
}

/**
 * Unix nanoseconds → RFC 3339 UTC: `2023-11-14T22:13:20Z`. A non-zero
 * sub-second part is appended with trailing zeros removed (`.5Z`,
 * `.000000001Z`), so whole seconds read cleanly and nothing is rounded away.
 * Every i64 value (years 1677 … 2262) fits a JavaScript Date.
 */
export function formatUnixNanos(nanos: bigint): string {
  let seconds = nanos / NANOS_PER_SECOND
  let rest = nanos % NANOS_PER_SECOND
  if (rest < 0n) {
    // bigint division truncates toward zero; times before 1970 need floor.
    seconds -= 1n
    rest += NANOS_PER_SECOND
  }
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  const fraction = rest === 0n ? '' : `.${rest.toString().padStart(9, '0').replace(/0+$/, '')}`
  return `${whole}${fraction}Z`
}

/**
 * Unix nanoseconds → RFC 3339 UTC in whole seconds (the sub-second part
 * dropped, as Go's `time.RFC3339` layout does): what the reference inspector prints.
 */
export function formatUnixSeconds(nanos: bigint): string {
  let seconds = nanos / NANOS_PER_SECOND
  if (nanos % NANOS_PER_SECOND < 0n) seconds -= 1n
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}Z`
}

/** Lowercase hex, two digits a byte. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0')
  return out
}
