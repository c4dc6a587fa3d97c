import { checkpointContentHash, checkpointSigningDomain } from '@igor/checkpoint-codec'
import { verifySignature } from '@igor/identity'
import type { LineageCrypto } from './crypto.js'

/** SHA-256 and Ed25519 from node:crypto (OpenSSL): what `igord verify` uses. */
export const nodeLineageCrypto: LineageCrypto = {
  contentHash: checkpointContentHash,
  verifyCheckpoint: (bytes, lineage) => verifySignature(lineage.agentPubKey, checkpointSigningDomain(bytes), lineage.signature)
}
