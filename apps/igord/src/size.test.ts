import { describe, expect, it } from 'vitest'
import { parseSize, parseSizeAtLeast } from './size.js'

describe('parseSize (SPEC §11 sizes)', () => {
  it('reads bytes and binary units', () => {
    expect(parseSize('0')).toBe(0)
    expect(parseSize('1024')).toBe(1024)
    expect(parseSize('100MiB')).toBe(100 * 1024 * 1024)
    expect(parseSize('1GiB')).toBe(1024 ** 3)
    expect(parseSize('1.5 KiB')).toBe(1536)
    expect(parseSize('2TiB')).toBe(2 * 1024 ** 4)
  })

  it('refuses anything else with the forms it takes', () => {
    for (const bad of ['', '1GB', '-1MiB', '1 gib', 'lots', '1e9', '9999999TiB']) {
      expect(() => parseSize(bad)).toThrow(RangeError)
    }
    expect(() => parseSize('1GB')).toThrow('must be a size like 512MiB, 1GiB or a number of bytes, got "1GB"')
    expect(() => parseSizeAtLeast(1024 * 1024)('1KiB')).toThrow('must be at least 1048576 bytes')
  })
})
