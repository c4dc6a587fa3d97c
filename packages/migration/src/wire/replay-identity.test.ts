// SPEC §12 on the wire: Package.ReplayData (after PricePerSecond) and
// Package.AgentIdentity (after LeaseGeneration), as the reference writes them.
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import { decodeAgentTransfer, encodeAgentTransfer } from './agent-transfer.js'
import type { AgentPackage, AgentTransfer } from './types.js'

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8')
const b = (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, 'base64'))

// The reference's internal/migration/testdata/agent_package_with_replay.json
// (identical at commit 0c253dd and at its newest commit), as json.MarshalIndent wrote it.
const GO_GOLDEN_PACKAGE = `{
  "AgentID": "golden-replay-agent",
  "WASMBinary": "AGFzbQ==",
  "WASMHash": "zV1JNaSMBnLLBkB7tEO8AIev+UfGuGS6yIaYLHOzAn8=",
  "Checkpoint": "AgECAw==",
  "ManifestData": "eyJjYXBhYmlsaXRpZXMiOnsiY2xvY2siOnsidmVyc2lvbiI6MX19fQ==",
  "Budget": 5000000,
  "PricePerSecond": 2000,
  "ReplayData": {
    "PreTickState": "qrvM3Q==",
    "TickNumber": 42,
    "Entries": [
      {
        "HostcallID": 1,
        "Payload": "AQIDBAUGBwg="
      },
      {
        "HostcallID": 2,
        "Payload": "3q2+7w=="
      },
      {
        "HostcallID": 3,
        "Payload": "dGljaw=="
      }
    ]
  }
}`

function wrap(pkg: string): string {
  return `{"Package":${pkg},"SourceNodeID":"12D3KooWExample"}`
}

function base(overrides: Partial<AgentPackage> = {}): AgentTransfer {
  return {
    Package: {
      AgentID: 'a', WASMBinary: Uint8Array.of(0), WASMHash: new Uint8Array(32), Checkpoint: Uint8Array.of(3),
      ManifestData: new Uint8Array(0), Budget: 1n, PricePerSecond: 2n, MajorVersion: 0n, LeaseGeneration: 0n, ...overrides
    },
    SourceNodeID: 'peer'
  }
}

describe('ReplayData', () => {
  it('decodes the reference golden package_with_replay', () => {
    const pkg = decodeAgentTransfer(wrap(GO_GOLDEN_PACKAGE)).Package
    expect(pkg.AgentID).toBe('golden-replay-agent')
    expect(pkg.ReplayData).toEqual({
      PreTickState: Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd),
      TickNumber: 42n,
      Entries: [
        { HostcallID: 1, Payload: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
        { HostcallID: 2, Payload: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) },
        { HostcallID: 3, Payload: new TextEncoder().encode('tick') }
      ]
    })
    expect('AgentIdentity' in pkg).toBe(false)
  })

  it('encodes it to the same JSON, field for field and in the same order (compact, as json.Encoder writes)', () => {
    const decoded = decodeAgentTransfer(wrap(GO_GOLDEN_PACKAGE))
    const compact = JSON.stringify(JSON.parse(GO_GOLDEN_PACKAGE))
    expect(text(encodeAgentTransfer(decoded))).toBe(`${wrap(compact)}\n`)
  })

  it('sits after PricePerSecond and before Receipts/MajorVersion; an empty log is null, like a Go nil slice', () => {
    const out = text(encodeAgentTransfer(base({ ReplayData: { PreTickState: new Uint8Array(0), TickNumber: 18446744073709551615n, Entries: [] }, MajorVersion: 3n })))
    expect(out).toContain('"PricePerSecond":2,"ReplayData":{"PreTickState":"","TickNumber":18446744073709551615,"Entries":null},"MajorVersion":3}')
    const back = decodeAgentTransfer(out).Package.ReplayData
    expect(back?.TickNumber).toBe(18446744073709551615n)
    expect(back?.Entries).toEqual([])
  })

  it('reads null ReplayData as absent and [] entries as empty', () => {
    expect('ReplayData' in decodeAgentTransfer(wrap(GO_GOLDEN_PACKAGE.replace(/"ReplayData": \{[\s\S]*\n {2}\}/, '"ReplayData": null'))).Package).toBe(false)
    const empty = GO_GOLDEN_PACKAGE.replace(/"Entries": \[[\s\S]*?\n {4}\]/, '"Entries": []')
    expect(decodeAgentTransfer(wrap(empty)).Package.ReplayData?.Entries).toEqual([])
  })

  it('refuses a bad HostcallID or payload with the field named', () => {
    for (const [bad, field] of [
      ['"HostcallID": 1,', '"HostcallID": 65536,'],
      ['"HostcallID": 1,', '"HostcallID": -1,'],
      ['"HostcallID": 1,', '"HostcallID": "1",'],
      ['"Payload": "AQIDBAUGBwg="', '"Payload": "AQID*"']
    ] as const) {
      const input = wrap(GO_GOLDEN_PACKAGE.replace(bad, field))
      expect(() => decodeAgentTransfer(input)).toThrow(MigrationError)
      expect(() => decodeAgentTransfer(input)).toThrow(/AgentTransfer\.Package\.ReplayData\.Entries\[0\]\./)
    }
    expect(() => decodeAgentTransfer(wrap(GO_GOLDEN_PACKAGE.replace('"TickNumber": 42', '"TickNumber": 4.5')))).toThrow(/ReplayData\.TickNumber/)
    expect(() => encodeAgentTransfer(base({ ReplayData: { PreTickState: new Uint8Array(0), TickNumber: 1n, Entries: [{ HostcallID: 70000, Payload: new Uint8Array(0) }] } })))
      .toThrow(/HostcallID/)
  })
})

describe('AgentIdentity', () => {
  const identity = new Uint8Array(68).map((_, i) => i)

  it('is written last, after LeaseGeneration, as base64', () => {
    const out = text(encodeAgentTransfer(base({ LeaseGeneration: 9n, AgentIdentity: identity })))
    expect(out).toContain(`"LeaseGeneration":9,"AgentIdentity":"${Buffer.from(identity).toString('base64')}"},"SourceNodeID"`)
    expect(decodeAgentTransfer(out).Package.AgentIdentity).toEqual(identity)
  })

  it('is omitted when absent or empty, and null or "" read as absent', () => {
    expect(text(encodeAgentTransfer(base()))).not.toContain('AgentIdentity')
    expect(text(encodeAgentTransfer(base({ AgentIdentity: new Uint8Array(0) })))).not.toContain('AgentIdentity')
    const pkg = '{"AgentID":"a","WASMBinary":"AA==","WASMHash":"","Checkpoint":"","ManifestData":"","Budget":1,"PricePerSecond":1'
    expect('AgentIdentity' in decodeAgentTransfer(wrap(`${pkg},"AgentIdentity":null}`)).Package).toBe(false)
    expect('AgentIdentity' in decodeAgentTransfer(wrap(`${pkg},"AgentIdentity":""}`)).Package).toBe(false)
    expect(decodeAgentTransfer(wrap(`${pkg},"AgentIdentity":"AQI="}`)).Package.AgentIdentity).toEqual(Uint8Array.of(1, 2))
    expect(() => decodeAgentTransfer(wrap(`${pkg},"AgentIdentity":7}`))).toThrow(/AgentTransfer\.Package\.AgentIdentity/)
  })

  it('round-trips with ReplayData and every other field present', () => {
    const t = base({
      ReplayData: { PreTickState: b('qrvM3Q=='), TickNumber: 42n, Entries: [{ HostcallID: 10, Payload: Uint8Array.of(1) }] },
      MajorVersion: 18446744073709551615n, LeaseGeneration: 1n, AgentIdentity: identity
    })
    const back = decodeAgentTransfer(encodeAgentTransfer(t))
    expect(back).toEqual(t)
  })
})
