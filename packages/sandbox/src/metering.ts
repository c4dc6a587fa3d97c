/** Nanoseconds in one second: prices are microcents per second, ticks are timed in ns. */
const NS_PER_SECOND = 1_000_000_000n

export interface Charge {
  /** Microcents taken from the budget for this tick. */
  readonly cost: bigint
  /** Budget left after the charge (never below zero). */
  readonly budget: bigint
  /** Sub-microcent remainder (in microcent·ns/s units) carried to the next tick. */
  readonly carry: bigint
}

/**
 * SPEC §5 metering: cost = elapsed ns × pricePerSecond / 10^9 in exact integer
 * maths (bigint, so no overflow), capped at the remaining budget.
 *
 * The division remainder is carried to the next tick instead of dropped, so an
 * agent whose ticks each cost a fraction of a microcent still pays for them:
 * over any run the total charged is floor(Σ elapsed × price / 10^9).
 */
export function chargeTick(budget: bigint, pricePerSecond: bigint, elapsedNs: bigint, carry = 0n): Charge {
  if (elapsedNs < 0n) elapsedNs = 0n
  const scaled = elapsedNs * pricePerSecond + carry
  let cost = scaled / NS_PER_SECOND
  let nextCarry = scaled % NS_PER_SECOND
  if (cost >= budget) {
    cost = budget > 0n ? budget : 0n
    nextCarry = 0n
  }
  return { cost, budget: budget - cost, carry: nextCarry }
}

/** Converts currency units given as text (`"1.5"`) to exact microcents (`1500000n`). */
export function unitsToMicrocents(text: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(text.trim())
  if (match === null) {
    throw new RangeError(`not a non-negative amount with at most 6 decimals: ${JSON.stringify(text)}`)
  }
  const whole = BigInt(match[1] as string)
  const fraction = BigInt((match[2] ?? '').padEnd(6, '0'))
  return whole * 1_000_000n + fraction
}

/** Formats microcents as currency units with six decimals, e.g. `2000000n` → `2.000000`. */
export function formatMicrocents(microcents: bigint): string {
  const negative = microcents < 0n
  const abs = negative ? -microcents : microcents
  const text = `${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`
  return negative ? `-${text}` : text
}
