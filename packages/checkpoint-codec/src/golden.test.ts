// Golden vectors written byte by byte from the SPEC §4 table — not produced by
// the encoder — so a symmetric bug in encode and decode cannot hide here.
import { Epoch } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import { HEADER_LENGTH_V2, HEADER_LENGTH_V3, decodeCheckpoint, encodeCheckpoint } from './index.js'

function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '')
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16))
}

const HASH_0_TO_31 = hex(`
  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
  10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f`)

const V3 = hex(`
  03
  80 84 1e 00 00 00 00 00
  dc 05 00 00 00 00 00 00
  0a 00 00 00 00 00 00 00
  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
  10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
  03 00 00 00 00 00 00 00
  07 00 00 00 00 00 00 00
  00 00 2a 36 fe 9c 97 17
  de ad be ef 01 02 03 04`)

// Extremes: budget/price 2^63-1, tick 2^64-1, epoch (2^64-1, 2^53+1), expiry -1.
const V3_EXTREMES = hex(`
  03
  ff ff ff ff ff ff ff 7f
  ff ff ff ff ff ff ff 7f
  ff ff ff ff ff ff ff ff
  aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa
  aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa
  ff ff ff ff ff ff ff ff
  01 00 00 00 00 00 20 00
  ff ff ff ff ff ff ff ff`)

const V2 = hex(`
  02
  01 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00
  ff ff ff ff ff ff ff ff
  aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa
  aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa
  68 69`)

const V2_EMPTY_STATE = V2.subarray(0, HEADER_LENGTH_V2)

describe('golden vectors', () => {
  it('decodes a hand-written v0x03 checkpoint', () => {
    expect(V3.length).toBe(HEADER_LENGTH_V3 + 8)
    const c = decodeCheckpoint(V3)
    expect(c.version).toBe(3)
    expect(c.budget).toBe(2_000_000n)
    expect(c.pricePerSecond).toBe(1500n)
    expect(c.tickNumber).toBe(10n)
    expect([...c.wasmHash]).toEqual([...HASH_0_TO_31])
    expect(c.epoch.toString()).toBe('(3,7)')
    expect(c.leaseExpiry).toBe(1_700_000_000_000_000_000n)
    expect([...c.state]).toEqual([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])
  })

  it('encodes the same fields to exactly those bytes', () => {
    const bytes = encodeCheckpoint({
      budget: 2_000_000n,
      pricePerSecond: 1500n,
      tickNumber: 10n,
      wasmHash: HASH_0_TO_31,
      epoch: new Epoch(3n, 7n),
      leaseExpiry: 1_700_000_000_000_000_000n,
      state: Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4)
    })
    expect([...bytes]).toEqual([...V3])
  })

  it('decodes and re-encodes a v0x03 checkpoint at the integer extremes', () => {
    const c = decodeCheckpoint(V3_EXTREMES)
    expect(c.budget).toBe((1n << 63n) - 1n)
    expect(c.pricePerSecond).toBe((1n << 63n) - 1n)
    expect(c.tickNumber).toBe((1n << 64n) - 1n)
    expect(c.epoch.majorVersion).toBe((1n << 64n) - 1n)
    expect(c.epoch.leaseGeneration).toBe((1n << 53n) + 1n)
    expect(c.leaseExpiry).toBe(-1n)
    expect(c.state.length).toBe(0)
    expect([...encodeCheckpoint(c)]).toEqual([...V3_EXTREMES])
  })

  it('decodes a hand-written v0x02 checkpoint as epoch (0,0) with no lease', () => {
    const c = decodeCheckpoint(V2)
    expect(c.version).toBe(2)
    expect(c.budget).toBe(1n)
    expect(c.pricePerSecond).toBe(0n)
    expect(c.tickNumber).toBe((1n << 64n) - 1n)
    expect(c.wasmHash.every((b) => b === 0xaa)).toBe(true)
    expect(c.epoch).toBe(Epoch.ZERO)
    expect(c.leaseExpiry).toBe(0n)
    expect(new TextDecoder().decode(c.state)).toBe('hi')
  })

  it('decodes a v0x02 checkpoint with an empty state', () => {
    expect(V2_EMPTY_STATE.length).toBe(57)
    const c = decodeCheckpoint(V2_EMPTY_STATE)
    expect(c.version).toBe(2)
    expect(c.state.length).toBe(0)
    expect(c.tickNumber).toBe((1n << 64n) - 1n)
  })

  it('upgrades v0x02 to v0x03 on re-encode, keeping every field', () => {
    const upgraded = encodeCheckpoint(decodeCheckpoint(V2))
    expect(upgraded[0]).toBe(3)
    expect(upgraded.length).toBe(HEADER_LENGTH_V3 + 2)
    // Same fields at the same offsets up to the hash; then epoch (0,0) and expiry 0.
    expect([...upgraded.subarray(1, 57)]).toEqual([...V2.subarray(1, 57)])
    expect([...upgraded.subarray(57, 81)]).toEqual(new Array<number>(24).fill(0))
    expect([...upgraded.subarray(81)]).toEqual([0x68, 0x69])
  })
})
