// SPEC §12 chain head, and SPEC §7 2.0.0: a content hash computed as the checkpoint arrived is taken as is.
import { GENESIS_PREV_HASH, checkpointContentHash, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import { headOf } from './agent-lineage.js'

describe('headOf', () => {
  const bytes = encodeSignedCheckpoint(
    { budget: 1n, pricePerSecond: 1n, tickNumber: (1n << 64n) - 1n, wasmHash: new Uint8Array(32), epoch: new Epoch(1n, 0n), leaseExpiry: 0n, state: new Uint8Array(1000) },
    GENESIS_PREV_HASH,
    AgentIdentity.generate()
  )
  it('hashes the bytes when no hash is given, and takes a given 32-byte hash as the content hash', () => {
    const hash = checkpointContentHash(bytes)
    expect(headOf(bytes)).toEqual(headOf(bytes, hash))
    expect(headOf(bytes).tick).toBe((1n << 64n) - 1n)
    const given = new Uint8Array(32).fill(7)
    expect(headOf(bytes, given).contentHash).toEqual(given)
  })
  it('ignores a hash that is not 32 bytes', () => {
    expect(headOf(bytes, new Uint8Array(31)).contentHash).toEqual(checkpointContentHash(bytes))
  })
})
