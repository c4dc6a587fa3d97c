// SPEC §15 receipts signed with the node key; SPEC §6 node.key read without libp2p on the start path (issue 21 item 5).
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verify, createPublicKey } from 'node:crypto'
import { loadOrCreateNodeKey, NODE_KEY_FILE } from '@igor/migration'
import { ed25519PeerId } from '@igor/checkpoint-codec'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { nodeReceiptSigner, readCanonicalNodeKey } from './node-signer.js'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'igord-node-signer-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

describe('readCanonicalNodeKey', () => {
  it('reads the key libp2p wrote: the same public key and peer id', async () => {
    const key = await loadOrCreateNodeKey(dir)
    const fast = await readCanonicalNodeKey(join(dir, NODE_KEY_FILE))
    expect(fast).not.toBeNull()
    expect(Buffer.from(fast!.publicKey).equals(Buffer.from(key.publicKey.raw))).toBe(true)
    const signer = await nodeReceiptSigner(dir)
    expect(signer.nodeId).toBe(ed25519PeerId(key.publicKey.raw))
    const data = new Uint8Array([1, 2, 3])
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey.raw)])
    expect(verify(null, data, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signer.sign(data))).toBe(true)
  })

  it('leaves to loadOrCreateNodeKey a missing key, an open mode, and a public half that does not match', async () => {
    const path = join(dir, NODE_KEY_FILE)
    expect(await readCanonicalNodeKey(path)).toBeNull()
    await loadOrCreateNodeKey(dir)
    await chmod(path, 0o644)
    expect(await readCanonicalNodeKey(path)).toBeNull()
    await chmod(path, 0o600)
    const bytes = await readFile(path)
    bytes[67] = (bytes[67] as number) ^ 1
    await writeFile(path, bytes, { mode: 0o600 })
    expect(await readCanonicalNodeKey(path)).toBeNull()
    await expect(nodeReceiptSigner(dir)).rejects.toMatchObject({ code: 'NODE_KEY_INVALID' })
  })

  it('creates the key on first start (through libp2p) and reads it fast afterwards', async () => {
    const first = await nodeReceiptSigner(dir)
    expect(await readCanonicalNodeKey(join(dir, NODE_KEY_FILE))).not.toBeNull()
    expect((await nodeReceiptSigner(dir)).nodeId).toBe(first.nodeId)
  })
})
