import { describe, expect, it } from 'vitest'
import { HostcallId, MAX_TICK_LOG_BYTES, MAX_TICK_LOG_ENTRIES, TickRecorder, countEntries, decodeEntries, encodeEntries, highestHostcallId, u64Payload } from './event-log.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

describe('TickRecorder', () => {
  it('records entries in order with their payloads, and u64 values little-endian', () => {
    const recorder = new TickRecorder()
    recorder.begin()
    recorder.recordU64(HostcallId.ClockNow, 0x0102030405060708n)
    recorder.record(HostcallId.RandBytes, Uint8Array.of(0xde, 0xad, 0xbe, 0xef))
    recorder.record(HostcallId.LogEmit, new TextEncoder().encode('tick'))
    const sealed = recorder.end()
    expect(sealed).not.toBeNull()
    const entries = decodeEntries(sealed!.packed)
    expect(entries.map((e) => [e.hostcallId, hex(e.payload)])).toEqual([
      [1, '0807060504030201'],
      [2, 'deadbeef'],
      [3, hex(new TextEncoder().encode('tick'))]
    ])
    expect(sealed!.highestId).toBe(3)
  })

  it('records nothing outside a tick (SPEC §12: calls outside agent_tick are not recorded)', () => {
    const recorder = new TickRecorder()
    recorder.recordU64(HostcallId.ClockNow, 1n)
    recorder.begin()
    recorder.recordU64(HostcallId.WalletBalance, 5n)
    recorder.end()
    recorder.recordU64(HostcallId.ClockNow, 2n)
    expect(recorder.recording).toBe(false)
    recorder.begin()
    expect(decodeEntries(recorder.end()!.packed)).toEqual([])
  })

  it('copies payloads: a later change of the agent memory does not change the log', () => {
    const recorder = new TickRecorder()
    const memory = Uint8Array.of(1, 2, 3)
    recorder.begin()
    recorder.record(HostcallId.RandBytes, memory)
    memory[0] = 9
    expect(hex(decodeEntries(recorder.end()!.packed)[0]!.payload)).toBe('010203')
  })

  it('grows past its first arena and keeps every byte', () => {
    const recorder = new TickRecorder()
    recorder.begin()
    const big = new Uint8Array(10_000).map((_, i) => i & 0xff)
    for (let i = 0; i < 5; i++) recorder.record(HostcallId.RandBytes, big)
    const entries = decodeEntries(recorder.end()!.packed)
    expect(entries).toHaveLength(5)
    expect(entries.every((e) => e.payload.every((b, i) => b === (i & 0xff)))).toBe(true)
  })

  it('marks a tick whose log would exceed the cap as unrecordable, and recovers on the next tick', () => {
    const recorder = new TickRecorder()
    recorder.begin()
    recorder.record(HostcallId.RandBytes, new Uint8Array(MAX_TICK_LOG_BYTES))
    expect(recorder.end()).toBeNull()
    recorder.begin()
    recorder.recordU64(HostcallId.ClockNow, 7n)
    expect(decodeEntries(recorder.end()!.packed)).toHaveLength(1)
  })

  it('caps a tick in entries as well as bytes (issue 17: 500 000 clock reads are legal, their replay is not kept)', () => {
    const recorder = new TickRecorder()
    recorder.begin()
    for (let i = 0; i < MAX_TICK_LOG_ENTRIES; i++) recorder.recordU64(HostcallId.ClockNow, BigInt(i))
    const full = recorder.end()!
    expect(countEntries(full.packed)).toBe(MAX_TICK_LOG_ENTRIES)
    recorder.begin()
    for (let i = 0; i <= MAX_TICK_LOG_ENTRIES; i++) recorder.recordU64(HostcallId.ClockNow, BigInt(i))
    expect(recorder.end()).toBeNull()
  })
})

describe('encodeEntries / decodeEntries', () => {
  it('round-trips, including empty payloads', () => {
    const entries = [
      { hostcallId: 1, payload: u64Payload(1_000_000_000n) },
      { hostcallId: 11, payload: new Uint8Array(0) },
      { hostcallId: 8, payload: Uint8Array.of(0xc8, 0, 0, 0, 0x7b) }
    ]
    const decoded = decodeEntries(encodeEntries(entries))
    expect(decoded.map((e) => [e.hostcallId, hex(e.payload)])).toEqual(entries.map((e) => [e.hostcallId, hex(e.payload)]))
    expect(highestHostcallId(decoded)).toBe(11)
  })

  it('refuses a truncated log', () => {
    const packed = encodeEntries([{ hostcallId: 2, payload: Uint8Array.of(1, 2, 3) }])
    expect(() => decodeEntries(packed.subarray(0, packed.byteLength - 1))).toThrow(RangeError)
    expect(() => decodeEntries(packed.subarray(0, 3))).toThrow(RangeError)
  })
})
