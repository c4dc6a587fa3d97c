import { allocForOverwrite } from './alloc.js'
import { HEADER_LENGTH_V4, OFFSET_SIGNATURE } from './layout.js'

/**
 * The bytes a v0x04 signature covers, `bytes[0:145] ‖ state` (SPEC §12), as one
 * fresh buffer (the signature sits between the two parts, so one copy is needed).
 * `bytes` must be a v0x04 checkpoint of at least 209 bytes.
 */
export function checkpointSigningDomain(bytes: Uint8Array): Uint8Array {
  // Every byte is overwritten below; large buffers skip zero-filling.
  const domain = allocForOverwrite(OFFSET_SIGNATURE + bytes.length - HEADER_LENGTH_V4)
  domain.set(bytes.subarray(0, OFFSET_SIGNATURE), 0)
  domain.set(bytes.subarray(HEADER_LENGTH_V4), OFFSET_SIGNATURE)
  return domain
}
