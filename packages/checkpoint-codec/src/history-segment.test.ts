// SPEC §12 (ours, issue 21): history segment bytes — records, torn tails, corruption.
import { describe, expect, it } from 'vitest'
import {
  RECORD_HEADER_LENGTH, SEGMENT_HEADER_LENGTH, crc32, decodePrunedMarker, encodeHistoryRecord, encodePrunedMarker,
  encodeSegmentHeader, parseHistorySegment, segmentFileName, segmentTickOf
} from './history-segment.js'

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))
const payload = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

describe('history segment', () => {
  it('crc32 is zlib\'s', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })

  it('reads back every record with its offset and the header time', () => {
    const seg = concat(encodeSegmentHeader(1_700_000_000_123), encodeHistoryRecord(payload(5, 1)), encodeHistoryRecord(payload(0, 0)), encodeHistoryRecord(payload(300, 7)))
    const parsed = parseHistorySegment(seg)
    expect(parsed.createdAtMs).toBe(1_700_000_000_123)
    expect(parsed.records.map((r) => [r.offset, r.payload.length])).toEqual([
      [SEGMENT_HEADER_LENGTH, 5], [SEGMENT_HEADER_LENGTH + RECORD_HEADER_LENGTH + 5, 0], [SEGMENT_HEADER_LENGTH + 2 * RECORD_HEADER_LENGTH + 5, 300]
    ])
    expect(parsed.validLength).toBe(seg.length)
    expect(parsed.tornTail).toBeNull()
    expect(parsed.corrupt).toBeNull()
  })

  it('a record cut anywhere is a torn tail: the records before it stand, nothing of it is returned', () => {
    const whole = concat(encodeSegmentHeader(0), encodeHistoryRecord(payload(10, 1)), encodeHistoryRecord(payload(50, 2)))
    const firstEnd = SEGMENT_HEADER_LENGTH + RECORD_HEADER_LENGTH + 10
    for (let cut = firstEnd + 1; cut < whole.length; cut++) {
      const parsed = parseHistorySegment(whole.subarray(0, cut))
      expect(parsed.records).toHaveLength(1)
      expect(parsed.validLength).toBe(firstEnd)
      expect(parsed.tornTail?.offset).toBe(firstEnd)
      expect(parsed.corrupt).toBeNull()
    }
    // A header cut short: an empty segment with a torn tail at 0.
    expect(parseHistorySegment(whole.subarray(0, 5)).tornTail?.offset).toBe(0)
  })

  it('a checksum mismatch in the last record is a torn tail; before the last it is corruption, never a wrong record', () => {
    const a = encodeHistoryRecord(payload(10, 1))
    const b = encodeHistoryRecord(payload(10, 2))
    const last = concat(encodeSegmentHeader(0), a, b)
    last[last.length - 1] = last[last.length - 1]! ^ 0xff
    const torn = parseHistorySegment(last)
    expect(torn.records.map((r) => r.payload[0])).toEqual([1])
    expect(torn.tornTail?.reason).toMatch(/^checksum mismatch/)
    const middle = concat(encodeSegmentHeader(0), a, b)
    middle[SEGMENT_HEADER_LENGTH + RECORD_HEADER_LENGTH] = middle[SEGMENT_HEADER_LENGTH + RECORD_HEADER_LENGTH]! ^ 0xff
    const corrupt = parseHistorySegment(middle)
    expect(corrupt.records).toHaveLength(0)
    expect(corrupt.corrupt).toEqual({ offset: SEGMENT_HEADER_LENGTH, reason: expect.stringMatching(/^checksum mismatch/) })
    // A flipped length bit is caught too (the length is under the checksum).
    const length = concat(encodeSegmentHeader(0), a, b)
    length[SEGMENT_HEADER_LENGTH] = 9
    expect(parseHistorySegment(length).records).toHaveLength(0)
  })

  it('refuses a file that is not a segment', () => {
    expect(parseHistorySegment(new TextEncoder().encode('not a segment at all, no')).corrupt?.reason).toMatch(/bad magic/)
  })

  it('names segments by tick, u64 included; the pruned marker round-trips', () => {
    for (const tick of [0n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 1n]) expect(segmentTickOf(segmentFileName(tick))).toBe(tick)
    expect(segmentFileName(7n)).toBe('seg-0000000007.hist')
    expect(segmentTickOf('0000000007.ckpt')).toBeNull()
    for (const tick of [0n, 2n ** 64n - 1n]) expect(decodePrunedMarker(encodePrunedMarker({ anchorTick: tick }, 0))).toEqual({ anchorTick: tick })
    expect(decodePrunedMarker('{"version":1,"anchorTick":"18446744073709551616"}')).toBeNull()
    expect(decodePrunedMarker('nope')).toBeNull()
  })
})
