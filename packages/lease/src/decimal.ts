/**
 * Exact decimal arithmetic for config numbers.
 *
 * `String(x)` prints the shortest decimal that reads back as the same double,
 * i.e. what the user typed (`0.3`, not 0.299999999999999988…). Reading that
 * text as a fraction `num / 10^k` lets lease arithmetic run in `bigint` with
 * no floating-point rounding at all.
 */
export interface DecimalFraction {
  readonly num: bigint
  readonly den: bigint
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/

/** `x` (finite, ≥ 0) as the exact fraction of its shortest decimal form. */
export function decimalFraction(x: number): DecimalFraction {
  const match = Number.isFinite(x) && x >= 0 ? DECIMAL.exec(String(x)) : null
  if (match === null) throw new RangeError(`not a finite non-negative number: ${String(x)}`)
  const fraction = match[2] ?? ''
  const num = BigInt((match[1] as string) + fraction)
  const scale = fraction.length - Number(match[3] ?? '0')
  return scale >= 0 ? { num, den: 10n ** BigInt(scale) } : { num: num * 10n ** BigInt(-scale), den: 1n }
}

/** Milliseconds (finite, ≥ 0) to whole nanoseconds, rounding sub-nanosecond parts down. */
export function msToNs(ms: number): bigint {
  const { num, den } = decimalFraction(ms)
  return (num * 1_000_000n) / den
}
