import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chargeTick, formatMicrocents, unitsToMicrocents } from './metering.js'

const I64_MAX = (1n << 63n) - 1n

describe('chargeTick', () => {
  it('charges elapsed × price / 1e9', () => {
    expect(chargeTick(1_000_000n, 1000n, 1_000_000_000n)).toEqual({ cost: 1000n, budget: 999_000n, carry: 0n })
    expect(chargeTick(1_000_000n, 1500n, 2_000_000n).cost).toBe(3n)
  })

  it('carries sub-microcent remainders instead of dropping them', () => {
    let budget = 10_000n
    let carry = 0n
    for (let i = 0; i < 1000; i++) {
      const c = chargeTick(budget, 1000n, 50_000n, carry) // 0.05 microcents a tick
      budget = c.budget
      carry = c.carry
    }
    expect(budget).toBe(10_000n - 50n)
  })

  it('caps the cost at the remaining budget', () => {
    expect(chargeTick(5n, 1000n, 1_000_000_000n)).toEqual({ cost: 5n, budget: 0n, carry: 0n })
    expect(chargeTick(0n, 1000n, 1_000_000_000n)).toEqual({ cost: 0n, budget: 0n, carry: 0n })
  })

  it('does not overflow at the i64 edges', () => {
    const c = chargeTick(I64_MAX, I64_MAX, I64_MAX)
    expect(c.cost).toBe(I64_MAX)
    expect(c.budget).toBe(0n)
  })

  it('never charges more than the budget nor goes negative', () => {
    const i64 = fc.bigInt({ min: 0n, max: I64_MAX })
    fc.assert(fc.property(i64, i64, i64, (budget, price, elapsed) => {
      const c = chargeTick(budget, price, elapsed)
      expect(c.cost >= 0n && c.cost <= budget).toBe(true)
      expect(c.budget).toBe(budget - c.cost)
      expect(c.budget >= 0n).toBe(true)
    }))
  })
})

describe('units', () => {
  it('converts currency text to microcents exactly', () => {
    expect(unitsToMicrocents('1.0')).toBe(1_000_000n)
    expect(unitsToMicrocents('0.000001')).toBe(1n)
    expect(unitsToMicrocents('9223372036854.775807')).toBe(I64_MAX)
    expect(unitsToMicrocents('2')).toBe(2_000_000n)
  })

  it('refuses negative, malformed or over-precise amounts', () => {
    for (const bad of ['-1', 'abc', '1.0000001', '', '1e3', '.5']) {
      expect(() => unitsToMicrocents(bad)).toThrow(RangeError)
    }
  })

  it('formats microcents with six decimals', () => {
    expect(formatMicrocents(2_000_000n)).toBe('2.000000')
    expect(formatMicrocents(1500n)).toBe('0.001500')
    expect(formatMicrocents(-1n)).toBe('-0.000001')
  })
})
