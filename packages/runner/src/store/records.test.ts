import { Epoch, U64_MAX } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import { RecordFormatError, decodeAuthorityRecord, decodeTombstone, encodeAuthorityRecord, encodeTombstone } from './records.js'
import type { AuthorityRecord, Tombstone } from './records.js'

const EDGES = [0n, (1n << 53n) + 1n, (1n << 63n) - 1n, U64_MAX]

describe('authority record JSON', () => {
  it.each(EDGES)('round-trips 64-bit value %s exactly', (value) => {
    const record: AuthorityRecord = { state: 'HANDOFF_PENDING', epoch: new Epoch(value, value), peer: 'node-b', reason: 'r', updatedAtNs: value }
    const text = encodeAuthorityRecord('a', record)
    expect(text).toContain(`"${value}"`)
    const back = decodeAuthorityRecord('a', text)
    expect(back.state).toBe('HANDOFF_PENDING')
    expect(back.epoch.equals(record.epoch)).toBe(true)
    expect(back.updatedAtNs).toBe(value)
    expect(back.peer).toBe('node-b')
    expect(back.reason).toBe('r')
  })

  it('leaves optional fields absent', () => {
    const back = decodeAuthorityRecord('a', encodeAuthorityRecord('a', { state: 'ACTIVE_OWNER', epoch: Epoch.ZERO, updatedAtNs: 1n }))
    expect('peer' in back).toBe(false)
    expect('reason' in back).toBe(false)
  })

  it('refuses to encode bad values', () => {
    expect(() => encodeAuthorityRecord('a', { state: 'RUNNING' as never, epoch: Epoch.ZERO, updatedAtNs: 0n })).toThrow(RangeError)
    expect(() => encodeAuthorityRecord('a', { state: 'RETIRED', epoch: Epoch.ZERO, updatedAtNs: -1n })).toThrow(RangeError)
    expect(() => encodeAuthorityRecord('a', { state: 'RETIRED', epoch: Epoch.ZERO, updatedAtNs: U64_MAX + 1n })).toThrow(RangeError)
    expect(() => encodeAuthorityRecord('a', { state: 'RETIRED', epoch: Epoch.ZERO, updatedAtNs: 1 as never })).toThrow(TypeError)
  })

  const valid = JSON.parse(encodeAuthorityRecord('a', { state: 'RETIRED', epoch: new Epoch(1n, 2n), updatedAtNs: 3n }))
  it.each([
    ['{', /not valid JSON/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ ...valid, format: 2 }), /format must be 1/],
    [JSON.stringify({ ...valid, agentId: 'b' }), /agentId "b" does not match "a"/],
    [JSON.stringify({ ...valid, state: 'RUNNING' }), /state must be one of/],
    [JSON.stringify({ ...valid, epoch: null }), /epoch must be an object/],
    [JSON.stringify({ ...valid, epoch: { majorVersion: 1, leaseGeneration: '0' } }), /epoch.majorVersion must be a decimal string/],
    [JSON.stringify({ ...valid, epoch: { majorVersion: '1', leaseGeneration: '18446744073709551616' } }), /epoch.leaseGeneration 18446744073709551616 exceeds 2\^64-1/],
    [JSON.stringify({ ...valid, updatedAtNs: '-1' }), /updatedAtNs must be a decimal string/],
    [JSON.stringify({ ...valid, updatedAtNs: '01' }), /updatedAtNs must be a decimal string/],
    [JSON.stringify({ ...valid, peer: 5 }), /peer must be a string/]
  ])('refuses malformed record %s', (text, message) => {
    expect(() => decodeAuthorityRecord('a', text)).toThrow(RecordFormatError)
    expect(() => decodeAuthorityRecord('a', text)).toThrow(message)
  })
})

describe('tombstone JSON', () => {
  it.each(EDGES)('round-trips 64-bit value %s exactly', (value) => {
    const tombstone: Tombstone = { agentId: 'a', epoch: new Epoch(value, 0n), movedTo: 'peer-id', retiredAtNs: value }
    const back = decodeTombstone('a', encodeTombstone('a', tombstone))
    expect(back.agentId).toBe('a')
    expect(back.epoch.equals(tombstone.epoch)).toBe(true)
    expect(back.movedTo).toBe('peer-id')
    expect(back.retiredAtNs).toBe(value)
  })

  it('refuses a tombstone for another agent', () => {
    expect(() => encodeTombstone('a', { agentId: 'b', epoch: Epoch.ZERO, movedTo: 'p', retiredAtNs: 0n })).toThrow(/does not match/)
  })

  it('refuses a tombstone without movedTo', () => {
    const text = JSON.stringify({ format: 1, agentId: 'a', epoch: { majorVersion: '0', leaseGeneration: '0' }, retiredAtNs: '0' })
    expect(() => decodeTombstone('a', text)).toThrow(/movedTo is missing/)
  })
})
