import { Epoch } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import {
  CheckpointError, HEADER_LENGTH_V2, HEADER_LENGTH_V3, decodeCheckpoint, encodeCheckpoint, peekEpoch,
  readCheckpointHeader
} from './index.js'

const HASH = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i)

function sample(state: Uint8Array = Uint8Array.of(1, 2, 3, 4, 5)): Uint8Array {
  return encodeCheckpoint({
    budget: 2_000_000n, pricePerSecond: 1500n, tickNumber: 10n, wasmHash: HASH,
    epoch: new Epoch(3n, 7n), leaseExpiry: 1_700_000_000_000_000_000n, state
  })
}

function v2Header(): Uint8Array {
  const bytes = new Uint8Array(HEADER_LENGTH_V2)
  bytes[0] = 2
  return bytes
}

function caught(fn: () => unknown): CheckpointError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError)
    return error as CheckpointError
  }
  throw new Error('expected a CheckpointError')
}

describe('decodeCheckpoint errors', () => {
  it('refuses an empty input with EMPTY', () => {
    const e = caught(() => decodeCheckpoint(new Uint8Array(0)))
    expect(e.code).toBe('EMPTY')
    expect(e.name).toBe('CheckpointError')
  })

  it('refuses unknown versions and names the byte in hex', () => {
    for (const v of [0, 1, 5, 7, 0x10, 0xff]) {
      const bytes = sample()
      bytes[0] = v
      const e = caught(() => decodeCheckpoint(bytes))
      expect(e.code).toBe('UNSUPPORTED_VERSION')
      expect(e.version).toBe(v)
      expect(e.message).toContain(`0x${v.toString(16).padStart(2, '0')}`)
    }
    expect(caught(() => decodeCheckpoint(Uint8Array.of(7))).message).toContain('0x07')
  })

  it('refuses every truncation of a v0x03 header (1..80) with TOO_SHORT naming have/need', () => {
    const full = sample()
    for (let n = 1; n < HEADER_LENGTH_V3; n++) {
      const e = caught(() => decodeCheckpoint(full.subarray(0, n)))
      expect(e.code).toBe('TOO_SHORT')
      expect(e.have).toBe(n)
      expect(e.need).toBe(81)
      expect(e.message).toContain(`have ${n} bytes`)
      expect(e.message).toContain('need 81')
    }
    expect(decodeCheckpoint(full.subarray(0, HEADER_LENGTH_V3)).state.length).toBe(0)
  })

  it('refuses every truncation of a v0x02 header (1..56) with TOO_SHORT', () => {
    const full = v2Header()
    for (let n = 1; n < HEADER_LENGTH_V2; n++) {
      const e = caught(() => decodeCheckpoint(full.subarray(0, n)))
      expect(e.code).toBe('TOO_SHORT')
      expect(e.have).toBe(n)
      expect(e.need).toBe(57)
      expect(e.message).toContain('need 57')
    }
  })

  it('refuses a negative budget or price', () => {
    const bytes = sample()
    const view = new DataView(bytes.buffer)
    view.setBigInt64(1, -1n, true)
    expect(caught(() => decodeCheckpoint(bytes)).code).toBe('NEGATIVE_BUDGET')
    view.setBigInt64(1, 0n, true)
    view.setBigInt64(9, -(1n << 63n), true)
    const e = caught(() => decodeCheckpoint(bytes))
    expect(e.code).toBe('NEGATIVE_PRICE')
    expect(e.message).toContain('pricePerSecond')
  })

  it('throws TypeError (a programming error) for a non-Uint8Array', () => {
    expect(() => decodeCheckpoint('abc' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => decodeCheckpoint(null as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => decodeCheckpoint([3, 0] as unknown as Uint8Array)).toThrow(TypeError)
  })
})

describe('decodeCheckpoint views', () => {
  it('decodes from a subarray with a non-zero byteOffset', () => {
    const inner = sample(Uint8Array.of(9, 8, 7))
    const outer = new Uint8Array(inner.length + 13)
    outer.fill(0xee)
    outer.set(inner, 5)
    const view = outer.subarray(5, 5 + inner.length)
    expect(view.byteOffset).toBe(5)
    const c = decodeCheckpoint(view)
    expect(c.budget).toBe(2_000_000n)
    expect(c.tickNumber).toBe(10n)
    expect(c.epoch.toString()).toBe('(3,7)')
    expect(c.leaseExpiry).toBe(1_700_000_000_000_000_000n)
    expect([...c.wasmHash]).toEqual([...HASH])
    expect([...c.state]).toEqual([9, 8, 7])
  })

  it('decodes a Node Buffer (often a slice of a shared pool)', () => {
    const c = decodeCheckpoint(Buffer.from(sample()))
    expect(c.pricePerSecond).toBe(1500n)
  })

  it('returns the state as a view: mutating the input shows through', () => {
    const bytes = sample(Uint8Array.of(1, 2, 3))
    const c = decodeCheckpoint(bytes)
    expect(c.state.buffer).toBe(bytes.buffer)
    expect(c.state.byteOffset).toBe(bytes.byteOffset + HEADER_LENGTH_V3)
    bytes[HEADER_LENGTH_V3] = 42
    expect(c.state[0]).toBe(42)
  })
})

describe('readCheckpointHeader / peekEpoch', () => {
  it('read the header from just the header bytes', () => {
    const header = readCheckpointHeader(sample().subarray(0, HEADER_LENGTH_V3))
    expect(header.headerLength).toBe(81)
    expect(header.epoch.toString()).toBe('(3,7)')
    expect(peekEpoch(sample())).toEqual(new Epoch(3n, 7n))
    expect(peekEpoch(v2Header())).toBe(Epoch.ZERO)
  })

  it('raise the same errors as decoding', () => {
    expect(caught(() => peekEpoch(new Uint8Array(0))).code).toBe('EMPTY')
    expect(caught(() => peekEpoch(sample().subarray(0, 60))).code).toBe('TOO_SHORT')
    expect(caught(() => readCheckpointHeader(Uint8Array.of(9))).code).toBe('UNSUPPORTED_VERSION')
  })
})
