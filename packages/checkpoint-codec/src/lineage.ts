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

/**
 * True when `bytes` is a v0x04 checkpoint whose signature verifies with its
 * own embedded key; false for a bad signature and for v0x02/v0x03 (nothing is
 * signed). Throws `CheckpointError` when the bytes do not decode.
 */
export function verifyCheckpointSignature(bytes: Uint8Array): boolean {
  const header = readCheckpointHeader(bytes)
  if (header.lineage === null) return false
  return verifySignature(header.lineage.agentPubKey, checkpointSigningDomain(bytes), header.lineage.signature)
}
