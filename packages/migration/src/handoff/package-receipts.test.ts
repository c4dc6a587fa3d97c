// SPEC §15 `Package.Receipts` on the wire: base64 of the blob as a JSON string; a value that is not is refused.
import { describe, expect, it } from 'vitest'
import { decodeAgentTransfer, encodeAgentTransfer } from '../wire/agent-transfer.js'
import { RawJson } from '../wire/raw-json.js'
import { receiptsField, receiptsFromField } from './package-receipts.js'

describe('Package.Receipts', () => {
  it('round-trips the blob through an encoded transfer', () => {
    const blob = new Uint8Array([1, 0, 0, 0, 3, 0, 0, 0, 9, 8, 7])
    const bytes = encodeAgentTransfer({
      Package: {
        AgentID: 'a', WASMBinary: new Uint8Array(0), WASMHash: new Uint8Array(32), Checkpoint: new Uint8Array(0), ManifestData: new Uint8Array(0),
        Budget: 0n, PricePerSecond: 0n, MajorVersion: 0n, LeaseGeneration: 0n, Receipts: receiptsField(blob)
      },
      SourceNodeID: 'x'
    })
    const back = decodeAgentTransfer(bytes)
    expect(back.Package.Receipts).toBeInstanceOf(RawJson)
    expect(receiptsFromField(back.Package.Receipts)).toEqual(blob)
  })

  it('absent, null and "" are none; a number, an array or bad base64 are refused with the field named', () => {
    expect(receiptsFromField(undefined)).toBeUndefined()
    expect(receiptsFromField(RawJson.trusted('null'))).toBeUndefined()
    expect(receiptsFromField(RawJson.trusted('""'))).toBeUndefined()
    expect(() => receiptsFromField(RawJson.trusted('7'))).toThrow('Package.Receipts: expected a base64 string, got number')
    expect(() => receiptsFromField(RawJson.trusted('[1]'))).toThrow('Package.Receipts: expected a base64 string, got an array')
    expect(() => receiptsFromField(RawJson.trusted('"not base64!"'))).toThrow('Package.Receipts: not canonical padded base64')
  })
})
