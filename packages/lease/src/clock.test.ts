import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMonotonicClock, ManualClock, systemClock } from './index.js'

const HOUR_NS = 3_600_000_000_000n

describe('createMonotonicClock', () => {
  it('reads the wall clock once and then advances only with the monotonic source', () => {
    let wall = 1_700_000_000_000_000_000n
    let mono = 5_000n
    let wallReads = 0
    const clock = createMonotonicClock(() => { wallReads++; return wall }, () => mono)
    expect(clock.nowNs()).toBe(1_700_000_000_000_000_000n)

    mono += 1_500n
    expect(clock.nowNs()).toBe(1_700_000_000_000_001_500n)

    // An NTP step forward or backward: the clock does not move.
    wall += HOUR_NS
    expect(clock.nowNs()).toBe(1_700_000_000_000_001_500n)
    wall -= 2n * HOUR_NS
    expect(clock.nowNs()).toBe(1_700_000_000_000_001_500n)
    expect(wallReads).toBe(1)

    mono += 10n
    expect(clock.nowNs()).toBe(1_700_000_000_000_001_510n)
  })

  it('never goes backwards even if the monotonic source does', () => {
    let mono = 100n
    const clock = createMonotonicClock(() => 1_000n, () => mono)
    mono = 150n
    expect(clock.nowNs()).toBe(1_050n)
    mono = 120n
    expect(clock.nowNs()).toBe(1_050n)
    mono = 160n
    expect(clock.nowNs()).toBe(1_060n)
  })
})

describe('systemClock', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('is Unix ns (after 2020) and non-decreasing', () => {
    const a = systemClock.nowNs()
    const b = systemClock.nowNs()
    expect(typeof a).toBe('bigint')
    expect(a).toBeGreaterThan(1_577_836_800n * 1_000_000_000n)
    expect(b).toBeGreaterThanOrEqual(a)
  })

  it('does not move when the wall clock is stepped', () => {
    const before = systemClock.nowNs()
    const realNow = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(realNow + 3_600_000)
    const afterForward = systemClock.nowNs()
    vi.spyOn(Date, 'now').mockReturnValue(realNow - 3_600_000)
    const afterBackward = systemClock.nowNs()
    // A step would show up as a jump of an hour; only real elapsed time remains.
    expect(afterForward).toBeGreaterThanOrEqual(before)
    expect(afterForward - before).toBeLessThan(HOUR_NS / 2n)
    expect(afterBackward).toBeGreaterThanOrEqual(afterForward)
  })
})

describe('ManualClock', () => {
  it('moves only when told, in exact ns', () => {
    const clock = new ManualClock(10n)
    expect(clock.nowNs()).toBe(10n)
    expect(clock.advanceNs(5n).nowNs()).toBe(15n)
    expect(clock.advanceMs(2).nowNs()).toBe(2_000_015n)
    expect(clock.advanceMs(0.1).nowNs()).toBe(2_100_015n)
    expect(clock.advanceMs(1n).nowNs()).toBe(3_100_015n)
    expect(clock.set(-5n).nowNs()).toBe(-5n)
    expect(clock.set((1n << 64n) - 1n).nowNs()).toBe((1n << 64n) - 1n)
  })

  it('starts at 2023-11-14T22:13:20Z by default', () => {
    expect(new ManualClock().nowNs()).toBe(1_700_000_000_000_000_000n)
  })

  it('refuses to go backwards through advance', () => {
    const clock = new ManualClock(0n)
    expect(() => clock.advanceNs(-1n)).toThrow(RangeError)
    expect(() => clock.advanceMs(-1)).toThrow(RangeError)
    expect(() => clock.advanceMs(-1n)).toThrow(RangeError)
    expect(() => clock.advanceMs(NaN)).toThrow(RangeError)
    expect(clock.nowNs()).toBe(0n)
  })
})
