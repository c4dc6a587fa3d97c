import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GENESIS_PREV_HASH, encodeCheckpoint, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity, writeIdentityFile } from '@igor/identity'
import { AuthorityState } from '@igor/lease'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckpointStore } from '../store/index.js'
import { tempDir } from '@igor/test-kit'
import { FenceStore } from './fences.js'
import { answerHolding } from './holdings.js'
import type { AuthorityStake } from './holdings.js'
import { knownAgentKey, readStakeSigner, stakeStatement, verifyStakeProof } from './stake.js'
import { HistoryArchive } from '../lineage/history.js'

// Issue 16 point 3 (SPEC §7 "Authority answers are earned"): each test here failed before the fix.

const MAX = (1n << 64n) - 1n
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

let dir: { path: string, remove: () => Promise<void> }
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await dir.remove() })

function signedCheckpoint(identity: AgentIdentity, epoch: Epoch): Uint8Array {
  return encodeSignedCheckpoint({ budget: 1n, pricePerSecond: 1n, tickNumber: 3n, wasmHash: new Uint8Array(32), epoch, leaseExpiry: 0n, state: new Uint8Array(8) }, GENESIS_PREV_HASH, identity)
}

function proofBy(identity: AgentIdentity, epoch: Epoch, agentId = 'x', answerer = 'B', asker = 'A') {
  const header = signedCheckpoint(identity, epoch).subarray(0, 209)
  return { header, signature: identity.sign(stakeStatement(agentId, answerer, asker, header)) }
}

function provenBy(identity: AgentIdentity, epoch: Epoch, peer = 'A'): AuthorityStake {
  const checked = verifyStakeProof(proofBy(identity, epoch, 'x', 'B', peer), 'x', 'B', peer)
  if ('refused' in checked) throw new Error(checked.refused)
  return { peer, proven: checked }
}

async function node(options: { cap?: number, ttlMs?: number, nowNs?: () => bigint } = {}) {
  const store = await CheckpointStore.open(dir.path)
  const fences = new FenceStore(dir.path, options)
  return { store, fences, ask: async (asked: Epoch, stake: AuthorityStake, id = 'x') => answerHolding(id, asked, stake, { host: undefined, store, fences }) }
}

const fenceFiles = async (): Promise<string[]> => readdir(join(dir.path, 'fences')).catch(() => [])

describe('stake proofs', () => {
  it('verify only for this agent id, this answerer and this asker, with a v0x04 header', () => {
    const key = AgentIdentity.generate()
    const proof = proofBy(key, new Epoch(2n, 1n))
    const ok = verifyStakeProof(proof, 'x', 'B', 'A')
    expect('refused' in ok).toBe(false)
    expect(hex((ok as { agentPubKey: Uint8Array }).agentPubKey)).toBe(key.publicKeyHex)
    expect((ok as { epoch: Epoch }).epoch.toString()).toBe('(2,1)')
    expect(verifyStakeProof(proof, 'y', 'B', 'A')).toMatchObject({ refused: /signature does not verify/ })
    expect(verifyStakeProof(proof, 'x', 'C', 'A')).toMatchObject({ refused: /signature does not verify/ })
    expect(verifyStakeProof(proof, 'x', 'B', 'Mallory')).toMatchObject({ refused: /signature does not verify/ })
    const v3 = encodeCheckpoint({ budget: 1n, pricePerSecond: 1n, tickNumber: 3n, wasmHash: new Uint8Array(32), epoch: new Epoch(MAX, MAX), leaseExpiry: 0n, state: new Uint8Array(200) })
    expect(verifyStakeProof({ header: v3.subarray(0, 209), signature: proof.signature }, 'x', 'B', 'A')).toMatchObject({ refused: /not a signed v0x04/ })
    expect(verifyStakeProof({ header: new Uint8Array(12), signature: proof.signature }, 'x', 'B', 'A')).toMatchObject({ refused: /209-byte/ })
    expect(verifyStakeProof({ header: proof.header, signature: new Uint8Array(3) }, 'x', 'B', 'A')).toMatchObject({ refused: /signature/ })
  })

  it('the asking side reads its identity and the header of its checkpoint on disk', async () => {
    const store = await CheckpointStore.open(dir.path)
    expect(await readStakeSigner(store.dir, 'x')).toBeNull()
    const key = AgentIdentity.generate()
    await writeIdentityFile(join(store.dir, 'x.identity'), key.toBytes())
    await store.save('x', signedCheckpoint(key, new Epoch(4n, 2n)))
    const signer = (await readStakeSigner(store.dir, 'x'))!
    expect(signer.epoch.toString()).toBe('(4,2)')
    expect('refused' in verifyStakeProof({ header: signer.header, signature: signer.sign(stakeStatement('x', 'B', 'A', signer.header)) }, 'x', 'B', 'A')).toBe(false)
    expect(hex((await knownAgentKey(store.dir, 'x'))!)).toBe(key.publicKeyHex)
  })
})

describe('answers and fences are earned', () => {
  it('a stranger asking at (2^64−1, 2^64−1) without a proof is answered unknown and nothing is written — even for a live owner', async () => {
    const { store, ask } = await node()
    expect(await ask(new Epoch(MAX, MAX), { peer: 'Mallory', proven: null })).toMatchObject({ held: 'unknown', state: null, epoch: null, fenced: null })
    const key = AgentIdentity.generate()
    await writeIdentityFile(join(store.dir, 'x.identity'), key.toBytes())
    await store.save('x', signedCheckpoint(key, new Epoch(1n, 0n)))
    await store.writeAuthority('x', { state: AuthorityState.ACTIVE_OWNER, epoch: new Epoch(1n, 0n), updatedAtNs: 1n })
    expect((await ask(new Epoch(MAX, MAX), { peer: 'Mallory', proven: null })).held).toBe('unknown')
    // A proof by another key for an id held here proves nothing either.
    expect((await ask(new Epoch(MAX, MAX), provenBy(AgentIdentity.generate(), new Epoch(MAX, MAX), 'Mallory'))).held).toBe('unknown')
    expect(await fenceFiles()).toEqual([])
  })

  it('the agent key held here is answered; the fence goes no higher than the proven epoch', async () => {
    const { store, fences, ask } = await node()
    const key = AgentIdentity.generate()
    await writeIdentityFile(join(store.dir, 'x.identity'), key.toBytes())
    await store.save('x', signedCheckpoint(key, new Epoch(1n, 0n)))
    await store.writeAuthority('x', { state: AuthorityState.RECOVERY_REQUIRED, epoch: new Epoch(1n, 0n), updatedAtNs: 1n })
    const answer = await ask(new Epoch(MAX, MAX), provenBy(key, new Epoch(2n, 3n)))
    expect(answer).toMatchObject({ held: 'copy', state: 'RECOVERY_REQUIRED' })
    expect(answer.fenced?.toString()).toBe('(2,3)')
    expect((await fences.read('x'))?.toString()).toBe('(2,3)')
    const [row] = await fences.list()
    expect(row).toMatchObject({ agentId: 'x', key: key.publicKeyHex, peer: 'A', expiresAtNs: null })
  })

  it('on a node that never held the agent, any key proves a stake, and its fence refuses only packages of that key', async () => {
    const { fences, ask } = await node()
    const key = AgentIdentity.generate()
    const answer = await ask(new Epoch(5n, 0n), provenBy(key, new Epoch(5n, 0n)))
    expect(answer).toMatchObject({ held: 'none', epoch: null })
    expect(answer.fenced?.toString()).toBe('(5,0)')
    await expect(fences.refuseIfFenced('x', new Epoch(5n, 0n), key.publicKey)).rejects.toMatchObject({ code: 'FENCED' })
    await fences.refuseIfFenced('x', new Epoch(5n, 1n), key.publicKey)
    // Another agent under the same id (another key) is not blocked by it.
    await fences.refuseIfFenced('x', new Epoch(1n, 0n), AgentIdentity.generate().publicKey)
    await fences.refuseIfFenced('x', new Epoch(1n, 0n), null)
    // A second key gets its own entry; the first stays.
    const other = AgentIdentity.generate()
    expect((await ask(new Epoch(9n, 0n), provenBy(other, new Epoch(9n, 0n)))).fenced?.toString()).toBe('(9,0)')
    await expect(fences.refuseIfFenced('x', new Epoch(5n, 0n), key.publicKey)).rejects.toMatchObject({ code: 'FENCED' })
    expect((await fences.list()).map((r) => r.key).sort()).toEqual([key.publicKeyHex, other.publicKeyHex].sort())
  })

  it('the peer named by the hand-off record is answered without a proof, fenced no higher than the record', async () => {
    const { store, ask } = await node()
    await store.writeTombstone('x', { agentId: 'x', epoch: new Epoch(3n, 1n), movedTo: '12D3KooWnext', retiredAtNs: 1n })
    await store.writeAuthority('x', { state: AuthorityState.RETIRED, epoch: new Epoch(3n, 1n), updatedAtNs: 1n })
    const answer = await ask(new Epoch(MAX, MAX), { peer: '12D3KooWnext', proven: null })
    expect(answer).toMatchObject({ held: 'tombstone', movedTo: '12D3KooWnext' })
    expect(answer.fenced?.toString()).toBe('(3,1)')
    expect((await ask(new Epoch(MAX, MAX), { peer: '12D3KooWother', proven: null })).held).toBe('unknown')
    await store.writeAuthority('y', { state: AuthorityState.RECOVERY_REQUIRED, epoch: new Epoch(1n, 0n), peer: '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWtarget', updatedAtNs: 1n })
    await store.save('y', encodeCheckpoint({ budget: 1n, pricePerSecond: 1n, tickNumber: 3n, wasmHash: new Uint8Array(32), epoch: new Epoch(1n, 0n), leaseExpiry: 0n, state: new Uint8Array(8) }))
    expect((await ask(new Epoch(0n, 5n), { peer: '12D3KooWtarget', proven: null }, 'y')).held).toBe('copy')
  })

  it('the history archive still names the key of an agent that retired here', async () => {
    const { store, ask } = await node()
    const key = AgentIdentity.generate()
    await mkdir(join(store.dir, 'history', 'x'), { recursive: true })
    await writeFile(join(store.dir, 'history', 'x', '0000000003.ckpt'), signedCheckpoint(key, new Epoch(2n, 0n)))
    await store.writeTombstone('x', { agentId: 'x', epoch: new Epoch(2n, 0n), movedTo: '12D3KooWnext', retiredAtNs: 1n })
    expect((await ask(new Epoch(1n, 0n), provenBy(AgentIdentity.generate(), new Epoch(1n, 0n), 'M'))).held).toBe('unknown')
    expect(await ask(new Epoch(1n, 0n), provenBy(key, new Epoch(1n, 0n)))).toMatchObject({ held: 'tombstone', fenced: null })
  })

  it('reads the key from the newest record of a history segment (issue 21), past an older node\'s .ckpt files', async () => {
    const { store } = await node()
    const [old, key] = [AgentIdentity.generate(), AgentIdentity.generate()]
    await mkdir(join(store.dir, 'history', 'z'), { recursive: true })
    await writeFile(join(store.dir, 'history', 'z', '0000000001.ckpt'), signedCheckpoint(old, new Epoch(1n, 0n)))
    await new HistoryArchive(store.dir, 'z').write(3n, signedCheckpoint(key, new Epoch(2n, 0n)))
    expect(Buffer.from((await knownAgentKey(store.dir, 'z'))!).equals(Buffer.from(key.publicKey))).toBe(true)
  })

  it('over the cap: no fence, the answer is unknown; expired fences that guard nothing make room', async () => {
    let now = 1_000_000_000n
    const { fences, ask } = await node({ cap: 2, ttlMs: 1000, nowNs: () => now })
    for (const id of ['a', 'b']) expect((await ask(new Epoch(1n, 0n), provenBy(AgentIdentity.generate(), new Epoch(1n, 0n)), id)).held).toBe('none')
    expect(await ask(new Epoch(1n, 0n), provenBy(AgentIdentity.generate(), new Epoch(1n, 0n)), 'c')).toMatchObject({ held: 'unknown', fenced: null })
    expect((await fenceFiles()).sort()).toEqual(['a.json', 'b.json'])
    now += 2_000_000_000n
    // Past their time and guarding nothing: no longer enforced, and swept to make room.
    await fences.refuseIfFenced('a', new Epoch(1n, 0n))
    expect((await ask(new Epoch(1n, 0n), provenBy(AgentIdentity.generate(), new Epoch(1n, 0n)), 'c')).held).toBe('none')
    expect(await fenceFiles()).toEqual(['c.json'])
  })

  it('a fence that guards something does not expire; `lift` removes one on purpose; format 1 is still read', async () => {
    let now = 1n
    const { store, fences } = await node({ ttlMs: 1, nowNs: () => now })
    await fences.raise('x', new Epoch(2n, 0n), { key: null, peer: 'A' })
    await store.writeAuthority('x', { state: AuthorityState.RECOVERY_REQUIRED, epoch: new Epoch(1n, 0n), updatedAtNs: 1n })
    now = 10n ** 12n
    await expect(fences.refuseIfFenced('x', new Epoch(2n, 0n), null)).rejects.toMatchObject({ code: 'FENCED' })
    expect((await fences.list())[0]).toMatchObject({ agentId: 'x', expiresAtNs: null })
    expect((await fences.lift('x')).map((e) => e.epoch.toString())).toEqual(['(2,0)'])
    expect(await fenceFiles()).toEqual([])
    await expect(fences.lift('x')).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' })
    await writeFile(join(dir.path, 'fences', 'old.json'), JSON.stringify({ format: 1, agentId: 'old', epoch: { majorVersion: MAX.toString(), leaseGeneration: '1' } }))
    const fresh = new FenceStore(dir.path)
    expect((await fresh.read('old'))?.toString()).toBe(`(${MAX},1)`)
    expect((await fresh.entries('old'))[0]?.writtenAtNs).toBeGreaterThan(0n)
    // It guards nothing here: once its time (from the file's mtime) is up, it is swept like any other.
    const later = new FenceStore(dir.path, { ttlMs: 1, nowNs: () => BigInt(Date.now() + 60_000) * 1_000_000n })
    expect(await later.list()).toEqual([])
  })
})
