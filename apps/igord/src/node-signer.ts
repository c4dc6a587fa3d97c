// SPEC §15: receipts are signed with the node's libp2p Ed25519 key, so the key inside the peer id
// verifies them offline. The key file is the network's (`loadOrCreateNodeKey`); libp2p loads lazily.
import { createPrivateKey, sign } from 'node:crypto'
import { ed25519PeerId } from '@igor/checkpoint-codec'
import type { ReceiptSigner } from '@igor/runner'

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** The node key's receipt signer (its raw seed through node:crypto, synchronous). */
export async function nodeReceiptSigner(dataDir: string): Promise<ReceiptSigner> {
  const { loadOrCreateNodeKey } = await import('@igor/migration')
  const key = await loadOrCreateNodeKey(dataDir)
  if (key.type !== 'Ed25519') throw new Error(`the node key is ${key.type}; receipts need an Ed25519 node key`)
  const seed = key.raw.subarray(0, 32)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  return {
    nodeId: ed25519PeerId(key.publicKey.raw),
    sign: (data) => new Uint8Array(sign(null, data, privateKey))
  }
}
