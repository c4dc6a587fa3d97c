import { encodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch, U64_MAX } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import { inspectCheckpoint, renderJson } from './index.js'

const I64_MAX = (1n << 63n) - 1n

describe('renderJson', () => {
  it('keeps every 64-bit value exact as a decimal string, up to 2^64-1', () => {
    const bytes = encodeCheckpoint({
      budget: I64_MAX, pricePerSecond: (1n << 53n) + 1n, tickNumber: U64_MAX, wasmHash: new Uint8Array(32).fill(0xab),
      epoch: new Epoch(U64_MAX, (1n << 53n) + 1n), leaseExpiry: I64_MAX, state: Uint8Array.of(1, 2, 0xff)
    })
    const text = renderJson(inspectCheckpoint(bytes))
    expect(text.endsWith('}\n')).toBe(true)
    expect(text).toContain('"tickNumber": "18446744073709551615"')
    const json = JSON.parse(text)
    expect(json).toEqual({
      version: 3,
      budget: '9223372036854775807',
      pricePerSecond: '9007199254740993',
      tickNumber: '18446744073709551615',
      wasmHash: 'ab'.repeat(32),
      epoch: { majorVersion: '18446744073709551615', leaseGeneration: '9007199254740993' },
      leaseExpiry: '9223372036854775807',
      leaseExpiryTime: '2262-04-11T23:47:16.854775807Z',
      headerSize: 81,
      totalSize: 84,
      stateSize: 3,
      statePreviewHex: '0102ff',
      wasmVerified: null,
      lineage: null
    })
  })

  it('sets epoch and lease to null for v0x02, and includes the WASM check', () => {
    const bytes = new Uint8Array(57)
    bytes[0] = 2
    const json = JSON.parse(renderJson(inspectCheckpoint(bytes, { wasm: { path: 'a.wasm', bytes: new Uint8Array(0) } })))
    expect(json.version).toBe(2)
    expect(json.epoch).toBeNull()
    expect(json.leaseExpiry).toBeNull()
    expect(json.leaseExpiryTime).toBeNull()
    expect(json.headerSize).toBe(57)
    expect(json.statePreviewHex).toBe('')
    expect(json.wasmVerified).toEqual({
      path: 'a.wasm',
      matches: false,
      expectedHash: '0'.repeat(64),
      actualHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    })
  })

  it('keeps leaseExpiry "0" but no time for a v0x03 checkpoint without a lease', () => {
    const bytes = encodeCheckpoint({
      budget: 0n, pricePerSecond: 0n, tickNumber: 0n, wasmHash: new Uint8Array(32), epoch: Epoch.ZERO, leaseExpiry: 0n,
      state: new Uint8Array(300)
    })
    const json = JSON.parse(renderJson(inspectCheckpoint(bytes)))
    expect(json.leaseExpiry).toBe('0')
    expect(json.leaseExpiryTime).toBeNull()
    expect(json.epoch).toEqual({ majorVersion: '0', leaseGeneration: '0' })
    expect(json.statePreviewHex).toHaveLength(512)
  })
})
