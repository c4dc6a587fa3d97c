// SPEC §15 wallet_pay (ours): `Package.Payments` — base64 of the `payments` blob after `Receipts`, omitted
// when absent or empty; a reference package without it decodes as before; a value that is not base64, or
// longer than the limit, is refused naming the field.
import { describe, expect, it } from 'vitest'
import { decodeAgentTransfer, encodeAgentTransfer } from './agent-transfer.js'
import { DEFAULT_DECODE_LIMITS } from './decode-limits.js'
import type { AgentPackage } from './types.js'

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8')
const PAYMENTS = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 0xab, 0xcd])

function pkg(extra: Partial<AgentPackage> = {}): AgentPackage {
  return {
    AgentID: 'buyer', WASMBinary: Uint8Array.of(0), WASMHash: new Uint8Array(32), Checkpoint: Uint8Array.of(1), ManifestData: new Uint8Array(0),
    Budget: 5n, PricePerSecond: 1n, MajorVersion: 2n, LeaseGeneration: 0n, ...extra
  }
}

describe('Package.Payments', () => {
  it('is written after Receipts and before MajorVersion, and decodes to the same bytes', () => {
    const out = text(encodeAgentTransfer({ Package: pkg({ Receipts: 'AAAAAA==', Payments: PAYMENTS }), SourceNodeID: 'n' }))
    expect(out).toContain(`"Receipts":"AAAAAA==","Payments":"${Buffer.from(PAYMENTS).toString('base64')}","MajorVersion":2`)
    expect(decodeAgentTransfer(out).Package.Payments).toEqual(PAYMENTS)
  })

  it('is omitted when absent or empty; null, "" and absent decode as none', () => {
    expect(text(encodeAgentTransfer({ Package: pkg(), SourceNodeID: 'n' }))).not.toContain('Payments')
    expect(text(encodeAgentTransfer({ Package: pkg({ Payments: new Uint8Array(0) }), SourceNodeID: 'n' }))).not.toContain('Payments')
    const head = '{"Package":{"AgentID":"a","WASMBinary":"AA==","WASMHash":"","Checkpoint":"","ManifestData":"","Budget":1,"PricePerSecond":1'
    for (const value of ['null', '""']) expect('Payments' in decodeAgentTransfer(`${head},"Payments":${value}},"SourceNodeID":"n"}`).Package).toBe(false)
    expect(() => decodeAgentTransfer(`${head},"Payments":"%%%"},"SourceNodeID":"n"}`)).toThrow(/AgentTransfer\.Package\.Payments/)
    expect(() => decodeAgentTransfer(`${head},"Payments":[1]},"SourceNodeID":"n"}`)).toThrow(/AgentTransfer\.Package\.Payments/)
    expect(() => decodeAgentTransfer(`${head},"Payments":"AA==","Payments":"AA=="},"SourceNodeID":"n"}`)).toThrow(/Payments/)
  })

  it('a field longer than maxPaymentsBytes is refused before it is decoded', () => {
    const big = Buffer.alloc(4096).toString('base64')
    const input = `{"Package":{"AgentID":"a","WASMBinary":"AA==","WASMHash":"","Checkpoint":"","ManifestData":"","Budget":1,"PricePerSecond":1,"Payments":"${big}"},"SourceNodeID":"n"}`
    expect(() => decodeAgentTransfer(input, { ...DEFAULT_DECODE_LIMITS, maxPaymentsBytes: 1024 })).toThrow(/Payments: longer than 1024 bytes/)
  })
})
