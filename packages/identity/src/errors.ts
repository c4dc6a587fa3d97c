import { IgorError } from '@igor/errors'
/** Why an identity was refused (SPEC §12). Stable strings: callers branch on them. */
export type IdentityErrorCode =
  /** The identity file does not exist. */
  | 'MISSING'
  /** Fewer than 4 bytes: not even the length prefix. */
  | 'TOO_SHORT'
  /** The length prefix is not 64. */
  | 'BAD_KEY_LENGTH'
  /** The prefix says 64 but fewer key bytes follow. */
  | 'TRUNCATED'
  /** The stored public key is not the one the seed derives (ours, SPEC §12). */
  | 'KEY_MISMATCH'
  /** A seed, key or signature of the wrong size, or a malformed did:key. */
  | 'INVALID_KEY'
  /** The file could not be read or written (names the OS error code). */
  | 'IO'

export class IdentityError extends IgorError<IdentityErrorCode> {
  override readonly name = 'IdentityError'
}
