import { describe, expect, it } from 'vitest'
import { CheckpointError, formatMicrocents, formatUnixNanos, inspectCheckpoint, sha256Hex, toHex } from './index.js'

describe('formatMicrocents', () => {
  it('formats exactly, with six fraction digits', () => {
    expect(formatMicrocents(0n)).toBe('0.000000')
    expect(formatMicrocents(1n)).toBe('0.000001')
    expect(formatMicrocents(2_000_000n)).toBe('2.000000')
    expect(formatMicrocents(1500n)).toBe('0.001500')
    expect(formatMicrocents((1n << 63n) - 1n)).toBe('9223372036854.775807')
    expect(formatMicrocents(-1_500_000n)).toBe('-1.500000')
  })
})

describe('formatUnixNanos', () => {
  it('prints RFC 3339 UTC, with a fraction only when non-zero', () => {
    expect(formatUnixNanos(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z')
    expect(formatUnixNanos(1_700_000_000_500_000_000n)).toBe('2023-11-14T22:13:20.5Z')
    expect(formatUnixNanos(1_700_000_000_000_000_001n)).toBe('2023-11-14T22:13:20.000000001Z')
    expect(formatUnixNanos(1n)).toBe('1970-01-01T00:00:00.000000001Z')
  })

  it('handles times before 1970 and the i64 extremes', () => {
    expect(formatUnixNanos(-1n)).toBe('1969-12-31T23:59:59.999999999Z')
    expect(formatUnixNanos(-1_000_000_000n)).toBe('1969-12-31T23:59:59Z')
    expect(formatUnixNanos(-(1n << 63n))).toBe('1677-09-21T00:12:43.145224192Z')
    expect(formatUnixNanos((1n << 63n) - 1n)).toBe('2262-04-11T23:47:16.854775807Z')
  })
})

describe('sha256Hex / toHex', () => {
  it('hashes to 64 lowercase hex digits', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(toHex(Uint8Array.of(0, 0x0f, 0xf0, 0xff))).toBe('000ff0ff')
  })
})

describe('inspectCheckpoint', () => {
  it('raises CheckpointError for invalid input', () => {
    expect(() => inspectCheckpoint(new Uint8Array(0))).toThrow(CheckpointError)
    expect(() => inspectCheckpoint(Uint8Array.of(7))).toThrow(/0x07/)
  })

  it('copies the state preview, so the report outlives the input buffer', () => {
    const bytes = new Uint8Array(57 + 3)
    bytes[0] = 2
    bytes[57] = 9
    const report = inspectCheckpoint(bytes)
    bytes[57] = 0
    expect(report.statePreview[0]).toBe(9)
  })
})
