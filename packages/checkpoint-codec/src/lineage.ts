import { createHash } from 'node:crypto'
import { verifySignature } from '@igor/identity'
import { readCheckpointHeader } from './decode.js'
import { HASH_LENGTH, HEADER_LENGTH_V4, OFFSET_SIGNATURE } from './layout.js'

/** The `prevHash` of the first checkpoint of a chain: 32 zero bytes (SPEC §12). */
export const GENESIS_PREV_HASH: Uint8Array = new Uint8Array(HASH_LENGTH)

/** `contentHash = SHA-256(whole checkpoint)` (SPEC §12): what the next checkpoint's `prevHash` holds. */
export function checkpointContentHash(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/**
 * The bytes a v0x04 signature covers, `bytes[0:145] ‖ state` (SPEC §12), as one
 * fresh buffer (the signature sits between the two parts, so one copy is needed).
 * `bytes` must be a v0x04 checkpoint of at least 209 bytes.
 */
export function checkpointSigningDomain(bytes: Uint8Array): Uint8Array {
  const stateLength = bytes.length - HEADER_LENGTH_V4
  // Every byte is overwritten below; skip zero-filling large buffers.
  const domain = stateLength >= 8192 ? Buffer.allocUnsafeSlow(OFFSET_SIGNATURE + stateLength) : new Uint8Array(OFFSET_SIGNATURE + stateLength)
  domain.set(bytes.subarray(0, OFFSET_SIGNATURE), 0)
  domain.set(bytes.subarray(HEADER_LENGTH_V4), OFFSET_SIGNATURE)
  return domain
}

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
