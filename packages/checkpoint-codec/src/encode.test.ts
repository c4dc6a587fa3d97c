import { Epoch, U64_MAX } from '@igor/epoch'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CheckpointInput } from './index.js'
import { CheckpointError, HEADER_LENGTH_V3, I64_MAX, decodeCheckpoint, encodeCheckpoint } from './index.js'

const U64_EDGES = [0n, (1n << 53n) + 1n, I64_MAX, U64_MAX]
const I64_EDGES = [0n, 1n, (1n << 53n) + 1n, I64_MAX]

const u64 = fc.oneof(fc.constantFrom(...U64_EDGES), fc.bigInt({ min: 0n, max: U64_MAX }))
const nonNegativeI64 = fc.oneof(fc.constantFrom(...I64_EDGES), fc.bigInt({ min: 0n, max: I64_MAX }))
const i64 = fc.oneof(fc.constantFrom(0n, -1n, I64_MAX, -(1n << 63n)), fc.bigInt({ min: -(1n << 63n), max: I64_MAX }))

const checkpointArb: fc.Arbitrary<CheckpointInput> = fc.record({
  budget: nonNegativeI64,
  pricePerSecond: nonNegativeI64,
  tickNumber: u64,
  wasmHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  epoch: fc.tuple(u64, u64).map(([m, g]) => new Epoch(m, g)),
  leaseExpiry: i64,
  state: fc.uint8Array({ maxLength: 300 })
})

function base(overrides: Partial<Record<keyof CheckpointInput, unknown>> = {}): CheckpointInput {
  return {
    budget: 1n, pricePerSecond: 1n, tickNumber: 1n, wasmHash: new Uint8Array(32),
    epoch: Epoch.ZERO, leaseExpiry: 0n, state: new Uint8Array(0), ...overrides
  } as CheckpointInput
}

describe('encodeCheckpoint', () => {
  it('round-trips random checkpoints exactly, including every 64-bit edge', () => {
    fc.assert(
      fc.property(checkpointArb, (input) => {
        const bytes = encodeCheckpoint(input)
        expect(bytes[0]).toBe(3)
        expect(bytes.length).toBe(HEADER_LENGTH_V3 + input.state.length)
        const c = decodeCheckpoint(bytes)
        expect(c.version).toBe(3)
        expect(c.budget).toBe(input.budget)
        expect(c.pricePerSecond).toBe(input.pricePerSecond)
        expect(c.tickNumber).toBe(input.tickNumber)
        expect(c.epoch.equals(input.epoch)).toBe(true)
        expect(c.leaseExpiry).toBe(input.leaseExpiry)
        expect([...c.wasmHash]).toEqual([...input.wasmHash])
        expect([...c.state]).toEqual([...input.state])
      }),
      { numRuns: 300 }
    )
  })

  it('round-trips each u64 edge in every unsigned field', () => {
    for (const v of U64_EDGES) {
      const c = decodeCheckpoint(encodeCheckpoint(base({ tickNumber: v, epoch: new Epoch(v, v) })))
      expect(c.tickNumber).toBe(v)
      expect(c.epoch.majorVersion).toBe(v)
      expect(c.epoch.leaseGeneration).toBe(v)
    }
    const top = decodeCheckpoint(encodeCheckpoint(base({ budget: I64_MAX, pricePerSecond: I64_MAX, leaseExpiry: I64_MAX })))
    expect(top.budget).toBe(I64_MAX)
    expect(top.pricePerSecond).toBe(I64_MAX)
    expect(top.leaseExpiry).toBe(I64_MAX)
  })

  it('copies the state: later changes to the source do not leak into the encoding', () => {
    const state = Uint8Array.of(1, 2, 3)
    const bytes = encodeCheckpoint(base({ state }))
    state[0] = 99
    expect(bytes[HEADER_LENGTH_V3]).toBe(1)
  })

  it('encodes a state that is a subarray with a byteOffset', () => {
    const backing = Uint8Array.of(0, 0, 5, 6, 7, 0)
    const bytes = encodeCheckpoint(base({ state: backing.subarray(2, 5) }))
    expect([...decodeCheckpoint(bytes).state]).toEqual([5, 6, 7])
  })

  it('refuses negative budget and price with CheckpointError', () => {
    expect(() => encodeCheckpoint(base({ budget: -1n }))).toThrow(CheckpointError)
    try {
      encodeCheckpoint(base({ pricePerSecond: -(1n << 63n) }))
      expect.unreachable()
    } catch (error) {
      expect((error as CheckpointError).code).toBe('NEGATIVE_PRICE')
    }
    try {
      encodeCheckpoint(base({ budget: -5n }))
      expect.unreachable()
    } catch (error) {
      expect((error as CheckpointError).code).toBe('NEGATIVE_BUDGET')
    }
  })

  it('refuses values outside their integer range with RangeError naming the field', () => {
    expect(() => encodeCheckpoint(base({ budget: I64_MAX + 1n }))).toThrow(/budget/)
    expect(() => encodeCheckpoint(base({ budget: I64_MAX + 1n }))).toThrow(RangeError)
    expect(() => encodeCheckpoint(base({ pricePerSecond: U64_MAX }))).toThrow(RangeError)
    expect(() => encodeCheckpoint(base({ tickNumber: U64_MAX + 1n }))).toThrow(/tickNumber/)
    expect(() => encodeCheckpoint(base({ tickNumber: -1n }))).toThrow(RangeError)
    expect(() => encodeCheckpoint(base({ leaseExpiry: I64_MAX + 1n }))).toThrow(/leaseExpiry/)
    expect(() => encodeCheckpoint(base({ leaseExpiry: -(1n << 63n) - 1n }))).toThrow(RangeError)
    expect(() => encodeCheckpoint(base({ epoch: { majorVersion: -1n, leaseGeneration: 0n } }))).toThrow(RangeError)
  })

  it('refuses a wasmHash that is not exactly 32 bytes', () => {
    for (const n of [0, 31, 33, 64]) {
      expect(() => encodeCheckpoint(base({ wasmHash: new Uint8Array(n) }))).toThrow(RangeError)
    }
  })

  it('refuses wrong types with TypeError', () => {
    expect(() => encodeCheckpoint(base({ budget: 5 }))).toThrow(TypeError)
    expect(() => encodeCheckpoint(base({ state: [1, 2] }))).toThrow(TypeError)
    expect(() => encodeCheckpoint(base({ epoch: null }))).toThrow(TypeError)
  })
})

describe('encodeCheckpoint output buffer', () => {
  it('is a plain Uint8Array that owns exactly its bytes, small or large', () => {
    for (const size of [0, 100, 8 * 1024, 100_000]) {
      const state = new Uint8Array(size).fill(0x5a)
      const out = encodeCheckpoint(base({ state }))
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype)
      expect(out.byteOffset).toBe(0)
      expect(out.buffer.byteLength).toBe(HEADER_LENGTH_V3 + size)
      expect(out.subarray(HEADER_LENGTH_V3).every((b) => b === 0x5a)).toBe(true)
      // Every header byte is defined: re-encoding the decoded value gives identical bytes.
      expect(encodeCheckpoint(decodeCheckpoint(out))).toEqual(out)
    }
  })
})
