// SPEC §4: nothing but CheckpointError may escape the decoder, for any input.
import { Epoch } from '@igor/epoch'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AgentIdentity } from '@igor/identity'
import { CheckpointError, GENESIS_PREV_HASH, decodeCheckpoint, encodeCheckpoint, encodeSignedCheckpoint, verifyCheckpointSignature } from './index.js'

function decodesOrRefuses(bytes: Uint8Array): void {
  try {
    const c = decodeCheckpoint(bytes)
    // Whatever decodes must be internally consistent.
    expect(c.budget >= 0n && c.pricePerSecond >= 0n).toBe(true)
    expect(c.wasmHash.length).toBe(32)
    expect(c.state.length).toBe(bytes.length - ({ 2: 57, 3: 81, 4: 209 } as const)[c.version])
    if (c.version === 4) expect(c.lineage?.signature.length).toBe(64)
    // Verification never throws for bytes that decode: a bad signature is just false.
    if (c.version === 4) expect(typeof verifyCheckpointSignature(bytes)).toBe('boolean')
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error
  }
}

const fields = {
  budget: 2_000_000n, pricePerSecond: 1500n, tickNumber: 10n, wasmHash: new Uint8Array(32).fill(7),
  epoch: new Epoch(3n, 7n), leaseExpiry: 1_700_000_000_000_000_000n, state: Uint8Array.of(1, 2, 3, 4)
}
const valid = encodeCheckpoint(fields)
const validV4 = encodeSignedCheckpoint(fields, GENESIS_PREV_HASH, AgentIdentity.generate())

describe('decoder fuzz', () => {
  it('random bytes never raise anything but CheckpointError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => decodesOrRefuses(bytes)), { numRuns: 3000 })
  })

  it('random bytes behind a plausible version byte never raise anything but CheckpointError', () => {
    fc.assert(
      fc.property(fc.constantFrom(2, 3, 4), fc.uint8Array({ maxLength: 260 }), fc.nat(16), (version, rest, offset) => {
        const backing = new Uint8Array(offset + 1 + rest.length)
        backing[offset] = version
        backing.set(rest, offset + 1)
        decodesOrRefuses(backing.subarray(offset))
      }),
      { numRuns: 3000 }
    )
  })

  it.each([['v0x03', valid], ['v0x04', validV4]])('mutations of a valid %s checkpoint never raise anything but CheckpointError', (_, original) => {
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.nat(original.length)
    })
    fc.assert(
      fc.property(mutation, ({ flips, cut }) => {
        const bytes = original.slice()
        for (const [at, value] of flips) bytes[at] = value
        decodesOrRefuses(bytes.subarray(0, cut))
      }),
      { numRuns: 3000 }
    )
  })
})
