import { encodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import { inspectCheckpoint, renderText, wasmMismatchLine } from './index.js'

const HASH = Uint8Array.from({ length: 32 }, (_, i) => i)
const HASH_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
const WASM = new TextEncoder().encode('not really wasm')
const WASM_SHA256 = '445d2507372ee4086bbd29b73fddae48a456e8d738bd73b0ba2d7b5c80eb1bf1'

function v3(state: Uint8Array, overrides: { leaseExpiry?: bigint, wasmHash?: Uint8Array } = {}): Uint8Array {
  return encodeCheckpoint({
    budget: 2_000_000n, pricePerSecond: 1500n, tickNumber: 10n, wasmHash: overrides.wasmHash ?? HASH,
    epoch: new Epoch(3n, 7n), leaseExpiry: overrides.leaseExpiry ?? 1_700_000_000_000_000_000n, state
  })
}

/** A v0x02 file, built by hand: the codec only writes v0x03. */
function v2(state: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(57 + state.length)
  const view = new DataView(bytes.buffer)
  bytes[0] = 2
  view.setBigInt64(1, 123_456_789n, true)
  view.setBigInt64(9, 1n, true)
  view.setBigUint64(17, (1n << 64n) - 1n, true)
  bytes.set(HASH, 25)
  bytes.set(state, 57)
  return bytes
}

const STATE_8 = Uint8Array.of(0x68, 0x69, 0x21, 0x00, 0x01, 0x7f, 0x7e, 0x20)

describe('renderText', () => {
  it('renders a v0x03 checkpoint exactly as SPEC §8 shows', () => {
    expect(renderText(inspectCheckpoint(v3(STATE_8)))).toBe(
      'Checkpoint Inspector\n' +
      '====================\n' +
      '\n' +
      'Version:          3 (0x03)\n' +
      'Budget:           2.000000 (2000000 microcents)\n' +
      'Price/Second:     0.001500 (1500 microcents)\n' +
      'Tick Number:      10\n' +
      `WASM Hash:        ${HASH_HEX}\n` +
      'Epoch:            (3,7)\n' +
      'Lease Expiry:     2023-11-14T22:13:20Z\n' +
      'Header Size:      81 bytes\n' +
      'Total Size:       89 bytes\n' +
      'State Size:       8 bytes\n' +
      '\n' +
      'State Hex Dump:\n' +
      '  00000000  68 69 21 00 01 7f 7e 20                           |hi!...~ |\n'
    )
  })

  it('renders a v0x02 checkpoint without Epoch and Lease lines', () => {
    expect(renderText(inspectCheckpoint(v2(Uint8Array.of(0x41))))).toBe(
      'Checkpoint Inspector\n' +
      '====================\n' +
      '\n' +
      'Version:          2 (0x02)\n' +
      'Budget:           123.456789 (123456789 microcents)\n' +
      'Price/Second:     0.000001 (1 microcents)\n' +
      'Tick Number:      18446744073709551615\n' +
      `WASM Hash:        ${HASH_HEX}\n` +
      'Header Size:      57 bytes\n' +
      'Total Size:       58 bytes\n' +
      'State Size:       1 bytes\n' +
      '\n' +
      'State Hex Dump:\n' +
      '  00000000  41                                                |A|\n'
    )
  })

  it('shows (none) for a v0x03 checkpoint without a lease, and sub-second expiry exactly', () => {
    expect(renderText(inspectCheckpoint(v3(STATE_8, { leaseExpiry: 0n })))).toContain('\nLease Expiry:     (none)\n')
    // Like the reference (Go's RFC 3339 layout): whole seconds, and (none) for anything not positive.
    expect(renderText(inspectCheckpoint(v3(STATE_8, { leaseExpiry: 1_700_000_000_999_999_999n }))))
      .toContain('\nLease Expiry:     2023-11-14T22:13:20Z\n')
    expect(renderText(inspectCheckpoint(v3(STATE_8, { leaseExpiry: -5n })))).toContain('\nLease Expiry:     (none)\n')
  })

  it('reports a WASM match and a mismatch naming both hashes', () => {
    const wasmHash = Uint8Array.from(Buffer.from(WASM_SHA256, 'hex'))
    const ok = renderText(inspectCheckpoint(v3(STATE_8, { wasmHash }), { wasm: { path: 'agent.wasm', bytes: WASM } }))
    expect(ok).toContain('\nState Size:       8 bytes\nWASM Verified:    YES (matches agent.wasm)\n\nState Hex Dump:\n  00000000')
    const badReport = inspectCheckpoint(v3(STATE_8), { wasm: { path: 'other.wasm', bytes: WASM } })
    const bad = renderText(badReport)
    // The report is the reference's; the actual hash is a separate line for stderr (issue 22).
    expect(bad).toContain('\nWASM Verified:    NO (mismatch with other.wasm)\n\nState Hex Dump:')
    expect(bad).not.toContain('WASM Actual Hash')
    expect(wasmMismatchLine(badReport)).toBe(`WASM Actual Hash: ${WASM_SHA256}\n`)
    expect(wasmMismatchLine(inspectCheckpoint(v3(STATE_8, { wasmHash }), { wasm: { path: 'agent.wasm', bytes: WASM } }))).toBeNull()
    expect(bad).toContain(`WASM Hash:        ${HASH_HEX}\n`)
  })
})

describe('hex dump in the text report', () => {
  const dumpOf = (state: Uint8Array): string => renderText(inspectCheckpoint(v3(state))).split('State Size:')[1] ?? ''
  const counting = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff)

  it('prints no dump for an empty state', () => {
    expect(dumpOf(new Uint8Array(0))).toBe('       0 bytes\n')
  })

  it('prints one short line for 1 byte', () => {
    expect(dumpOf(Uint8Array.of(0x7a))).toBe(
      '       1 bytes\n\nState Hex Dump:\n' +
      '  00000000  7a                                                |z|\n'
    )
  })

  it('prints exactly one full line for 16 bytes', () => {
    expect(dumpOf(counting(16))).toBe(
      '       16 bytes\n\nState Hex Dump:\n' +
      '  00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|\n'
    )
  })

  it('starts a second line at 17 bytes', () => {
    expect(dumpOf(Uint8Array.from({ length: 17 }, (_, i) => 0x30 + i))).toBe(
      '       17 bytes\n\nState Hex Dump:\n' +
      '  00000000  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|\n' +
      '  00000010  40                                                |@|\n'
    )
  })

  it('prints 16 lines and no "more" line at exactly 256 bytes', () => {
    const lines = dumpOf(counting(256)).trimEnd().split('\n').slice(3)
    expect(lines).toHaveLength(16)
    expect(lines[15]).toBe('  000000f0  f0 f1 f2 f3 f4 f5 f6 f7  f8 f9 fa fb fc fd fe ff  |................|')
    expect(dumpOf(counting(256))).not.toContain('more bytes')
  })

  it('stops at 256 bytes and counts the rest at 257', () => {
    const lines = dumpOf(counting(257)).trimEnd().split('\n').slice(3)
    expect(lines).toHaveLength(17)
    expect(lines[15]?.startsWith('  000000f0  ')).toBe(true)
    expect(lines[16]).toBe('  ... (1 more bytes)')
  })

  it('counts a large remainder exactly', () => {
    expect(dumpOf(new Uint8Array(100_000)).endsWith('\n  ... (99744 more bytes)\n')).toBe(true)
  })
})
