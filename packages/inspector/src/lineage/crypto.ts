import type { CheckpointLineage } from '@igor/checkpoint-codec/portable'

/**
 * The two cryptographic checks of SPEC §12, injected so the verifier runs
 * anywhere: `igord verify` uses node:crypto (`nodeLineageCrypto`), a browser
 * uses pure JavaScript (`portableLineageCrypto`, from `@igor/inspector/browser`).
 * Both give the same answers for every input (tested on the same vectors).
 */
export interface LineageCrypto {
  /** `contentHash = SHA-256(whole checkpoint)`: what the next checkpoint's `prevHash` holds. */
  readonly contentHash: (bytes: Uint8Array) => Uint8Array
  /**
   * True when `lineage.signature` is a valid Ed25519 signature, by
   * `lineage.agentPubKey`, of `bytes[0:145] ‖ state`. Never throws.
   */
  readonly verifyCheckpoint: (bytes: Uint8Array, lineage: CheckpointLineage) => boolean
}
