// SPEC §16 Placement: the backoff schedule 1 s, 2 s, 4 s … capped at 30 s.
import { describe, expect, it } from 'vitest'
import { PLACEMENT_BACKOFF_CAP_MS, backoffMs } from './backoff.js'

describe('backoffMs', () => {
  it('doubles from 1 s and stops at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000])
  })

  it('stays finite and capped for any retry number', () => {
    for (const n of [52, 53, 1024, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Infinity]) expect(backoffMs(n)).toBe(PLACEMENT_BACKOFF_CAP_MS)
    for (const n of [-1, Number.NaN, -Infinity]) expect(backoffMs(n)).toBe(1000)
    expect(backoffMs(2.7)).toBe(4000)
  })

  it('takes another base and cap', () => {
    expect([0, 1, 2, 3].map((n) => backoffMs(n, 10, 35))).toEqual([10, 20, 35, 35])
  })
})
