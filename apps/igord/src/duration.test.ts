import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from './duration.js'

describe('parseDuration', () => {
  it('reads single units and combinations', () => {
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('10s')).toBe(10_000)
    expect(parseDuration('1m')).toBe(60_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('1m30s')).toBe(90_000)
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('0')).toBe(0)
    expect(parseDuration('0s')).toBe(0)
  })

  it('refuses anything else', () => {
    for (const bad of ['', '10', '-1s', '1x', 's', '1m 30s', '1m30', 'abc', '1e3s']) {
      expect(() => parseDuration(bad), bad).toThrow(RangeError)
    }
  })

  it('formats back', () => {
    expect(formatDuration(60_000)).toBe('1m')
    expect(formatDuration(10_000)).toBe('10s')
    expect(formatDuration(250)).toBe('250ms')
  })
})
