import { checkpointSigningDomain } from '@igor/checkpoint-codec/portable'
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '@igor/identity/portable'
import { ed25519 } from '@noble/curves/ed25519'
import { sha256 } from '@noble/hashes/sha2'
import type { LineageCrypto } from './crypto.js'

/**
 * SHA-256 and Ed25519 in pure JavaScript (@noble/hashes, @noble/curves):
 * synchronous, no node: import, the same in every browser and on Node 20
 * (whose WebCrypto Ed25519 is not everywhere, and is asynchronous).
 * Verification is strict RFC 8032 (`zip215: false`: canonical encodings,
 * S < L), as OpenSSL's is, so it accepts exactly what `igord verify` accepts.
 */
export const portableLineageCrypto: LineageCrypto = {
  contentHash: (bytes) => sha256(bytes),
  verifyCheckpoint: (bytes, lineage) => {
    if (lineage.agentPubKey.length !== PUBLIC_KEY_LENGTH || lineage.signature.length !== SIGNATURE_LENGTH) return false
    try {
      return ed25519.verify(lineage.signature, checkpointSigningDomain(bytes), lineage.agentPubKey, { zip215: false })
    } catch {
      return false // a key that is not a curve point
    }
  }
}
