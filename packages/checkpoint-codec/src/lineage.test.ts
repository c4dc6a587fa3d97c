import { createHash } from 'node:crypto'
import { Epoch, U64_MAX } from '@igor/epoch'
import { AgentIdentity, verifySignature } from '@igor/identity'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CheckpointInput } from './index.js'
import {
  CheckpointError, GENESIS_PREV_HASH, HEADER_LENGTH_V4, I64_MAX, checkpointContentHash, checkpointSigningDomain,
  decodeCheckpoint, encodeCheckpoint, encodeSignedCheckpoint, peekEpoch, verifyCheckpointSignature
} from './index.js'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

// RFC 8032 §7.1 TEST 1 key.
const RFC_KEY = AgentIdentity.fromSeed(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))

// The SPEC §12 vector.
const VECTOR_INPUT: CheckpointInput = {
  budget: 2_000_000n, pricePerSecond: 1500n, tickNumber: 10n,
  wasmHash: new Uint8Array(createHash('sha256').update('known-wasm-binary-for-golden-test').digest()),
  epoch: new Epoch(3n, 7n), leaseExpiry: 1_700_000_000_000_000_000n, state: hex('0500000000000000')
}
const VECTOR_SIGNATURE =
  'a74b7c09cc4351065e78b1348b763550d3762177186febf5251c69c58c180fd8ea6d97c84c83df9ecd2d589d00642aa38d7474dc99d822a86831ec0381fcbc02'
const VECTOR_CONTENT_HASH = 'eb172362a5a9e3039cf9c60461c25e449addc479102ba4c5b6d066df0b5cc6a1'

describe('v0x04 golden vector (SPEC §12)', () => {
  const bytes = encodeSignedCheckpoint(VECTOR_INPUT, GENESIS_PREV_HASH, RFC_KEY)

  it('encodes to the layout byte by byte and signs to the SPEC signature and content hash', () => {
    expect(bytes.length).toBe(HEADER_LENGTH_V4 + 8)
    // Written from the table, not by the encoder: v0x03 fields, zero prevHash, key, signature, state.
    const expected = hex(`
      04
      80841e0000000000 dc05000000000000 0a00000000000000
      ${toHex(VECTOR_INPUT.wasmHash)}
      0300000000000000 0700000000000000 00002a36fe9c9717
      ${'00'.repeat(32)}
      d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
      ${VECTOR_SIGNATURE}
      0500000000000000`)
    expect(toHex(bytes)).toBe(toHex(expected))
    expect(toHex(checkpointContentHash(bytes))).toBe(VECTOR_CONTENT_HASH)
  })

  it('decodes the vector with views into the input and verifies it', () => {
    const c = decodeCheckpoint(bytes)
    expect(c.version).toBe(4)
    expect(c.tickNumber).toBe(10n)
    expect(c.epoch.toString()).toBe('(3,7)')
    expect(toHex(c.lineage?.prevHash ?? new Uint8Array())).toBe('00'.repeat(32))
    expect(toHex(c.lineage?.agentPubKey ?? new Uint8Array())).toBe(RFC_KEY.publicKeyHex)
    expect(toHex(c.lineage?.signature ?? new Uint8Array())).toBe(VECTOR_SIGNATURE)
    expect(c.state.byteOffset).toBe(bytes.byteOffset + 209)
    expect(c.state.buffer).toBe(bytes.buffer)
    expect(toHex(c.state)).toBe('0500000000000000')
    expect(verifyCheckpointSignature(bytes)).toBe(true)
    expect(peekEpoch(bytes).toString()).toBe('(3,7)')
    // The signing domain is bytes[0:145] ‖ state.
    const domain = checkpointSigningDomain(bytes)
    expect(toHex(domain)).toBe(toHex(bytes.subarray(0, 145)) + '0500000000000000')
    expect(verifySignature(RFC_KEY.publicKey, domain, hex(VECTOR_SIGNATURE))).toBe(true)
  })

  it('chains: the next checkpoint carries the content hash as prevHash', () => {
    const next = encodeSignedCheckpoint({ ...VECTOR_INPUT, tickNumber: 11n }, checkpointContentHash(bytes), RFC_KEY)
    expect(toHex(decodeCheckpoint(next).lineage?.prevHash ?? new Uint8Array())).toBe(VECTOR_CONTENT_HASH)
    expect(verifyCheckpointSignature(next)).toBe(true)
  })
})

describe('v0x04 decoding', () => {
  it('refuses every v0x04 shorter than 209 bytes with TOO_SHORT', () => {
    const bytes = encodeSignedCheckpoint(VECTOR_INPUT, GENESIS_PREV_HASH, RFC_KEY)
    for (let n = 1; n < HEADER_LENGTH_V4; n++) {
      try {
        decodeCheckpoint(bytes.subarray(0, n))
        expect.unreachable()
      } catch (error) {
        expect(error).toBeInstanceOf(CheckpointError)
        expect((error as CheckpointError).code).toBe('TOO_SHORT')
        expect((error as CheckpointError).need).toBe(209)
      }
    }
  })

  it('v0x02/v0x03 have no lineage and do not verify', () => {
    const v3 = encodeCheckpoint(VECTOR_INPUT)
    expect(decodeCheckpoint(v3).lineage).toBeNull()
    expect(verifyCheckpointSignature(v3)).toBe(false)
  })

  it('refuses a prevHash or signer of the wrong size', () => {
    expect(() => encodeSignedCheckpoint(VECTOR_INPUT, new Uint8Array(31), RFC_KEY)).toThrow(RangeError)
    expect(() => encodeSignedCheckpoint(VECTOR_INPUT, GENESIS_PREV_HASH, { publicKey: new Uint8Array(3), sign: () => new Uint8Array(64) })).toThrow(RangeError)
    expect(() => encodeSignedCheckpoint(VECTOR_INPUT, GENESIS_PREV_HASH, { publicKey: new Uint8Array(32), sign: () => new Uint8Array(8) })).toThrow(RangeError)
  })

  it('signs a large state in place: the state is copied once and the signature still verifies', () => {
    const state = new Uint8Array(100_000).map((_, i) => i * 7)
    const bytes = encodeSignedCheckpoint({ ...VECTOR_INPUT, state }, GENESIS_PREV_HASH, RFC_KEY)
    expect(toHex(decodeCheckpoint(bytes).state)).toBe(toHex(state))
    expect(verifyCheckpointSignature(bytes)).toBe(true)
  })
})

const u64 = fc.bigInt({ min: 0n, max: U64_MAX })
const inputArb: fc.Arbitrary<CheckpointInput> = fc.record({
  budget: fc.bigInt({ min: 0n, max: I64_MAX }),
  pricePerSecond: fc.bigInt({ min: 0n, max: I64_MAX }),
  tickNumber: u64,
  wasmHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  epoch: fc.tuple(u64, u64).map(([m, g]) => new Epoch(m, g)),
  leaseExpiry: fc.bigInt({ min: -(1n << 63n), max: I64_MAX }),
  state: fc.uint8Array({ maxLength: 300 })
})
const KEYS = [RFC_KEY, AgentIdentity.generate(), AgentIdentity.generate()]

describe('v0x04 properties', () => {
  it('round-trips every field and verifies', () => {
    fc.assert(fc.property(inputArb, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(2), (input, prev, k) => {
      const key = KEYS[k] as AgentIdentity
      const bytes = encodeSignedCheckpoint(input, prev, key)
      const c = decodeCheckpoint(bytes)
      expect(c.version).toBe(4)
      expect(c.budget).toBe(input.budget)
      expect(c.pricePerSecond).toBe(input.pricePerSecond)
      expect(c.tickNumber).toBe(input.tickNumber)
      expect(c.epoch.equals(input.epoch)).toBe(true)
      expect(c.leaseExpiry).toBe(input.leaseExpiry)
      expect(toHex(c.wasmHash)).toBe(toHex(input.wasmHash))
      expect(toHex(c.state)).toBe(toHex(input.state))
      expect(toHex(c.lineage?.prevHash ?? new Uint8Array())).toBe(toHex(prev))
      expect(key.hasPublicKey(c.lineage?.agentPubKey ?? new Uint8Array())).toBe(true)
      expect(verifyCheckpointSignature(bytes)).toBe(true)
    }), { numRuns: 200 })
  })

  it('any flipped byte fails decoding or verification', () => {
    fc.assert(fc.property(inputArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (input, at, mask) => {
      const bytes = encodeSignedCheckpoint(input, GENESIS_PREV_HASH, RFC_KEY)
      const index = at % bytes.length
      bytes[index] = (bytes[index] as number) ^ mask
      let verified: boolean
      try {
        verified = verifyCheckpointSignature(bytes)
      } catch (error) {
        expect(error).toBeInstanceOf(CheckpointError)
        return
      }
      expect(verified).toBe(false)
    }), { numRuns: 500 })
  })
})
