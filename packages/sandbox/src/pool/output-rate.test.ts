import { describe, expect, it } from 'vitest'
import { OUTPUT_RATE, OutputRate } from './output-rate.js'

describe('OutputRate (SPEC §11 output over time)', () => {
  it('lets a burst through, then the sustained rate, and spends from both buckets or neither', () => {
    let now = 0
    const rate = new OutputRate({ linesPerSecond: 10, burstLines: 5, bytesPerSecond: 1000, burstBytes: 300 }, () => now)
    expect(Array.from({ length: 7 }, () => rate.take(10))).toEqual([true, true, true, true, true, false, false])
    now += 100 // 1 line
    expect(rate.take(10)).toBe(true)
    expect(rate.take(10)).toBe(false)
    now += 10_000 // refilled to the burst, not beyond
    expect(Array.from({ length: 6 }, () => rate.take(1))).toEqual([true, true, true, true, true, false])
    now += 10_000
    expect(rate.take(301)).toBe(false) // more bytes than the burst: refused, and nothing was spent
    expect(rate.take(300)).toBe(true)
  })

  it('the defaults allow a tick-per-second agent its full per-call output', () => {
    expect(OUTPUT_RATE.burstLines).toBeGreaterThanOrEqual(65)
    expect(OUTPUT_RATE.linesPerSecond).toBeGreaterThanOrEqual(65)
    expect(OUTPUT_RATE.bytesPerSecond).toBeGreaterThanOrEqual(64 * 1024)
  })
})
