// SPEC §15 test helper: a node signer from a 32-byte seed (the RFC 8032 test-1 key by default).
import { ed25519PeerId } from '@igor/checkpoint-codec'
import { AgentIdentity } from '@igor/identity'
import type { ReceiptSigner } from './types.js'

export const RFC_SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')

export function seedSigner(seed: Uint8Array = RFC_SEED): ReceiptSigner {
  const identity = AgentIdentity.fromSeed(seed)
  return { nodeId: ed25519PeerId(identity.publicKey), sign: (data) => identity.sign(data) }
}
