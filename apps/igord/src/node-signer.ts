// SPEC §15: receipts are signed with the node's libp2p Ed25519 key, so the key inside the peer id
// verifies them offline. The key file is the network's (`loadOrCreateNodeKey`, SPEC §6).
// Issue 21 item 5 (restart): a key file that is already a canonical, consistent, private (0600) Ed25519
// key is read here with node:crypto alone, so the start path loads no libp2p; anything else (no key yet,
// another encoding, a bad or open file) goes through `loadOrCreateNodeKey`, which creates, tightens or
// refuses it exactly as before. The network checks the same file again when it starts.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ed25519PeerId } from '@igor/checkpoint-codec'
import type { ReceiptSigner } from '@igor/runner'

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
/** libp2p's protobuf of an Ed25519 private key: Type = 1 (field 1), Data = 64 bytes (field 2): seed ‖ public key. */
const PROTOBUF_ED25519_PREFIX = Buffer.from('08011240', 'hex')
const NODE_KEY_FILE = 'node.key' // @igor/migration NODE_KEY_FILE (SPEC §6)

/** The node key's receipt signer (its raw seed through node:crypto, synchronous). */
export async function nodeReceiptSigner(dataDir: string): Promise<ReceiptSigner> {
  const keys = await readCanonicalNodeKey(join(dataDir, NODE_KEY_FILE)) ?? await loadWithLibp2p(dataDir)
  return {
    nodeId: ed25519PeerId(keys.publicKey),
    sign: (data) => new Uint8Array(sign(null, data, keys.privateKey))
  }
}

interface NodeKeys { privateKey: KeyObject, publicKey: Uint8Array }

function fromSeed(seed: Uint8Array): NodeKeys {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { privateKey, publicKey: new Uint8Array(spki.subarray(spki.length - 32)) }
}

/**
 * The fast path: the key when the file is exactly a canonical Ed25519 key whose public half matches
 * its seed and whose mode is closed to others; null for anything else (left to `loadOrCreateNodeKey`).
 */
export async function readCanonicalNodeKey(path: string): Promise<NodeKeys | null> {
  let bytes: Buffer
  try {
    if (((await stat(path)).mode & 0o077) !== 0) return null // loadOrCreateNodeKey tightens (or refuses) it
    bytes = await readFile(path)
  } catch {
    return null
  }
  if (bytes.length !== 68 || !bytes.subarray(0, 4).equals(PROTOBUF_ED25519_PREFIX)) return null
  const keys = fromSeed(bytes.subarray(4, 36))
  return Buffer.from(keys.publicKey).equals(bytes.subarray(36, 68)) ? keys : null
}

async function loadWithLibp2p(dataDir: string): Promise<NodeKeys> {
  const { loadOrCreateNodeKey } = await import('@igor/migration')
  const key = await loadOrCreateNodeKey(dataDir)
  if (key.type !== 'Ed25519') throw new Error(`the node key is ${key.type}; receipts need an Ed25519 node key`)
  const keys = fromSeed(key.raw.subarray(0, 32))
  if (!Buffer.from(keys.publicKey).equals(Buffer.from(key.publicKey.raw))) throw new Error('the node key\'s public key does not match its seed')
  return keys
}
