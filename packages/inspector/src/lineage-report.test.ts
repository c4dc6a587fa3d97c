import { createHash } from 'node:crypto'
import { GENESIS_PREV_HASH, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hexDump, inspectCheckpoint, renderJson, renderText } from './index.js'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
const RFC_KEY = AgentIdentity.fromSeed(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
const WASM_HASH = new Uint8Array(createHash('sha256').update('known-wasm-binary-for-golden-test').digest())
const VECTOR = encodeSignedCheckpoint({
  budget: 2_000_000n, pricePerSecond: 1500n, tickNumber: 10n, wasmHash: WASM_HASH, epoch: new Epoch(3n, 7n),
  leaseExpiry: 1_700_000_000_000_000_000n, state: hex('0500000000000000')
}, GENESIS_PREV_HASH, RFC_KEY)
const SIGNATURE =
  'a74b7c09cc4351065e78b1348b763550d3762177186febf5251c69c58c180fd8ea6d97c84c83df9ecd2d589d00642aa38d7474dc99d822a86831ec0381fcbc02'

describe('v0x04 in the inspector (SPEC §8, §12)', () => {
  it('renders the SPEC vector line for line', () => {
    expect(renderText(inspectCheckpoint(VECTOR))).toBe(
      'Checkpoint Inspector\n' +
      '====================\n' +
      '\n' +
      'Version:          4 (0x04)\n' +
      'Budget:           2.000000 (2000000 microcents)\n' +
      'Price/Second:     0.001500 (1500 microcents)\n' +
      'Tick Number:      10\n' +
      `WASM Hash:        ${Buffer.from(WASM_HASH).toString('hex')}\n` +
      'Epoch:            (3,7)\n' +
      'Lease Expiry:     2023-11-14T22:13:20Z\n' +
      'Agent Identity:   d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n' +
      `Previous Hash:    ${'0'.repeat(64)}\n` +
      'Signature:        VALID\n' +
      'Header Size:      209 bytes\n' +
      'Total Size:       217 bytes\n' +
      'State Size:       8 bytes\n' +
      '\n' +
      'State Hex Dump:\n' +
      '  00000000  05 00 00 00 00 00 00 00                           |........|\n' +
      'Agent DID:        did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw\n'
    )
  })

  it('says INVALID for a tampered state, and the DID line follows an empty state directly', () => {
    const tampered = VECTOR.slice()
    tampered[209] = 6
    expect(renderText(inspectCheckpoint(tampered))).toContain('\nSignature:        INVALID\nHeader Size:      209 bytes\n')
    const empty = encodeSignedCheckpoint({
      budget: 0n, pricePerSecond: 0n, tickNumber: 0n, wasmHash: WASM_HASH, epoch: Epoch.ZERO, leaseExpiry: 0n,
      state: new Uint8Array(0)
    }, GENESIS_PREV_HASH, RFC_KEY)
    expect(renderText(inspectCheckpoint(empty))).toMatch(/State Size: {7}0 bytes\nAgent DID: {8}did:key:z6Mk\S+\n$/)
  })

  it('carries the same facts in --json', () => {
    const json = JSON.parse(renderJson(inspectCheckpoint(VECTOR)))
    expect(json.version).toBe(4)
    expect(json.headerSize).toBe(209)
    expect(json.lineage).toEqual({
      agentPubKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      agentDid: 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw',
      prevHash: '0'.repeat(64),
      signature: SIGNATURE,
      signatureValid: true,
      contentHash: 'eb172362a5a9e3039cf9c60461c25e449addc479102ba4c5b6d066df0b5cc6a1'
    })
  })
})

/** A line-by-line transcription of the reference's printHexDump (internal/inspector/inspector.go), as an oracle. */
function referenceHexDump(data: Uint8Array): string {
  let out = ''
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, Math.min(i + 16, data.length))
    out += `  ${i.toString(16).padStart(8, '0')}  `
    row.forEach((b, j) => {
      out += `${b.toString(16).padStart(2, '0')} `
      if (j === 7) out += ' '
    })
    for (let j = row.length; j < 16; j++) {
      out += '   '
      if (j === 7) out += ' '
    }
    out += ' |'
    for (const b of row) out += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.'
    out += '|\n'
  }
  return out
}

describe('hex dump against the reference layout', () => {
  it('matches the SPEC §8 example line', () => {
    expect(hexDump(hex('0500000000000000')).map((l) => `  ${l}`)).toEqual([
      '  00000000  05 00 00 00 00 00 00 00                           |........|'
    ])
  })

  it('matches the reference byte for byte for every length up to 256', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (data) => {
      const ours = hexDump(data).map((l) => `  ${l}\n`).join('')
      expect(ours).toBe(referenceHexDump(data))
    }), { numRuns: 400 })
  })
})
