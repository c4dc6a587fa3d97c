import { createHash } from 'node:crypto'
import { verifySignature } from '@igor/identity'
import { readCheckpointHeader } from './decode.js'
import { HEADER_LENGTH_V4, OFFSET_SIGNATURE } from './layout.js'
import { GENESIS_PREV_HASH } from './genesis.js'
import { checkpointSigningDomain } from './signing-domain.js'

export { GENESIS_PREV_HASH }

/** `contentHash = SHA-256(whole checkpoint)` (SPEC §12): what the next checkpoint's `prevHash` holds. */
export function checkpointContentHash(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

export { checkpointSigningDomain }

// Verification needs the domain contiguous, so it copies the state once. A
// fresh buffer per call costs page faults and GC work comparable to the copy
// itself on large states (bench/suites/lineage.mjs), so domains up to this size
// reuse one scratch buffer; larger ones get a fresh buffer and are not kept.
const SCRATCH_MAX = 32 * 1024 * 1024
let scratch: Uint8Array | null = null

function domainInScratch(bytes: Uint8Array): Uint8Array {
  const length = OFFSET_SIGNATURE + bytes.length - HEADER_LENGTH_V4
  if (length > SCRATCH_MAX) return checkpointSigningDomain(bytes)
  if (scratch === null || scratch.length < length) {
    // Grow geometrically so a slowly growing state does not reallocate every time.
    scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(length, (scratch?.length ?? 0) * 2, 64 * 1024)))
  }
  scratch.set(bytes.subarray(0, OFFSET_SIGNATURE), 0)
  scratch.set(bytes.subarray(HEADER_LENGTH_V4), OFFSET_SIGNATURE)
  return scratch.subarray(0, length)
}

/**
 * True when `bytes` is a v0x04 checkpoint whose signature verifies with its
 * own embedded key; false for a bad signature and for v0x02/v0x03 (nothing is
 * signed). Throws `CheckpointError` when the bytes do not decode.
 */
export function verifyCheckpointSignature(bytes: Uint8Array): boolean {
  const header = readCheckpointHeader(bytes)
  if (header.lineage === null) return false
  // Synchronous from copy to check, so the shared scratch cannot be reused in between.
  return verifySignature(header.lineage.agentPubKey, domainInScratch(bytes), header.lineage.signature)
}
