import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LEASE_CONFIG, type LeaseConfig, msToNs, renewalThresholdNs, validateLeaseConfig } from './index.js'

const withField = (field: keyof LeaseConfig, value: unknown): LeaseConfig =>
  ({ ...DEFAULT_LEASE_CONFIG, [field]: value })

describe('DEFAULT_LEASE_CONFIG', () => {
  it('is 60 s / 0.5 / 10 s, frozen and valid', () => {
    expect(DEFAULT_LEASE_CONFIG).toEqual({ durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 })
    expect(Object.isFrozen(DEFAULT_LEASE_CONFIG)).toBe(true)
    expect(validateLeaseConfig(DEFAULT_LEASE_CONFIG)).toEqual(DEFAULT_LEASE_CONFIG)
  })
})

describe('validateLeaseConfig', () => {
  const bad: Array<[keyof LeaseConfig, unknown]> = [
    ['durationMs', 0], ['durationMs', -0], ['durationMs', -1], ['durationMs', NaN], ['durationMs', Infinity],
    ['durationMs', -Infinity], ['durationMs', '60000'], ['durationMs', undefined], ['durationMs', 1e-7],
    ['renewalWindow', 0], ['renewalWindow', 1], ['renewalWindow', -0.5], ['renewalWindow', 1.5],
    ['renewalWindow', NaN], ['renewalWindow', Infinity], ['renewalWindow', '0.5'],
    ['gracePeriodMs', -1], ['gracePeriodMs', -1e-9], ['gracePeriodMs', NaN], ['gracePeriodMs', Infinity],
    ['gracePeriodMs', null]
  ]

  it.each(bad)('refuses %s = %s with a RangeError naming the field', (field, value) => {
    const attempt = (): unknown => validateLeaseConfig(withField(field, value))
    expect(attempt).toThrow(RangeError)
    expect(attempt).toThrow(new RegExp(`^${field} `))
  })

  it('refuses a non-object', () => {
    expect(() => validateLeaseConfig(null as unknown as LeaseConfig)).toThrow(RangeError)
  })

  it('accepts the edges: grace 0, tiny window, 1 ns duration, fractional ms', () => {
    expect(validateLeaseConfig(withField('gracePeriodMs', 0)).gracePeriodMs).toBe(0)
    expect(validateLeaseConfig(withField('renewalWindow', Number.MIN_VALUE)).renewalWindow).toBe(Number.MIN_VALUE)
    expect(validateLeaseConfig(withField('renewalWindow', 1 - Number.EPSILON / 2)).renewalWindow).toBeLessThan(1)
    expect(validateLeaseConfig(withField('durationMs', 0.000001)).durationMs).toBe(0.000001)
    expect(validateLeaseConfig(withField('durationMs', 1.5)).durationMs).toBe(1.5)
  })

  it('returns a frozen copy without extra fields', () => {
    const input = { durationMs: 5, renewalWindow: 0.25, gracePeriodMs: 1, extra: 1 }
    const out = validateLeaseConfig(input)
    expect(out).toEqual({ durationMs: 5, renewalWindow: 0.25, gracePeriodMs: 1 })
    expect(Object.isFrozen(out)).toBe(true)
    expect(out).not.toBe(input)
  })
})

describe('msToNs', () => {
  it('converts exactly, including fractions that are not exact in binary', () => {
    expect(msToNs(0)).toBe(0n)
    expect(msToNs(60_000)).toBe(60_000_000_000n)
    expect(msToNs(0.1)).toBe(100_000n)
    expect(msToNs(1.000001)).toBe(1_000_001n)
    expect(msToNs(0.0000015)).toBe(1n) // sub-ns parts round down
    expect(msToNs(1e21)).toBe(10n ** 27n)
    expect(msToNs(Number.MAX_SAFE_INTEGER)).toBe(BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000n)
  })

  it('agrees with integer arithmetic for every whole number of ms', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (ms) => {
      expect(msToNs(ms)).toBe(BigInt(ms) * 1_000_000n)
    }))
  })

  it('refuses negative and non-finite input', () => {
    for (const bad of [-1, NaN, Infinity]) expect(() => msToNs(bad)).toThrow(RangeError)
  })
})

describe('renewalThresholdNs', () => {
  it('is duration × window in whole ns, reading the window as the decimal it prints as', () => {
    expect(renewalThresholdNs(DEFAULT_LEASE_CONFIG)).toBe(30_000_000_000n)
    // 0.3 as a double is 0.29999999999999998889…; a binary product would give 17 999 999 999.
    expect(renewalThresholdNs(withField('renewalWindow', 0.3))).toBe(18_000_000_000n)
    expect(renewalThresholdNs(withField('renewalWindow', 0.1))).toBe(6_000_000_000n)
    expect(renewalThresholdNs({ durationMs: 1, renewalWindow: 1e-7, gracePeriodMs: 0 })).toBe(0n) // 0.1 ns floors to 0
    expect(renewalThresholdNs({ durationMs: 0.000003, renewalWindow: 0.5, gracePeriodMs: 0 })).toBe(1n) // 1.5 ns floors to 1
  })

  it('never exceeds the duration and equals floor(durationNs × p / q) for windows p/q', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 10 ** 9 }),
      fc.integer({ min: 1, max: 999 }),
      (durationMs, permille) => {
        const threshold = renewalThresholdNs({ durationMs, renewalWindow: permille / 1000, gracePeriodMs: 0 })
        expect(threshold).toBe((BigInt(durationMs) * 1_000_000n * BigInt(permille)) / 1000n)
      }
    ))
  })
})
