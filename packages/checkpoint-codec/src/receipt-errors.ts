// SPEC §15 receipts: the one error the receipt decoders raise for bad bytes.
import { IgorError } from '@igor/errors'

/** Why receipt bytes (or a peer id inside one) were refused. Stable strings: callers branch on them. */
export type ReceiptErrorCode =
  /** A length, field or signature runs past the end of the input (or a blob is under 4 bytes). */
  | 'TRUNCATED'
  /** An id, recipient or memo longer than its bound (ids 1024 bytes, recipient 256, memo 512). */
  | 'TOO_LONG'
  /** `sigLen` is not 64, or a signer returned something other than 64 bytes. */
  | 'BAD_SIGNATURE_LENGTH'
  /** Bytes left over after the receipt (or after the last entry of a blob). */
  | 'TRAILING_BYTES'
  /** An id or recipient that is not well-formed UTF-8 (or a string with a lone surrogate). */
  | 'INVALID_UTF8'
  /** A blob whose count exceeds the caller's `maxCount`. */
  | 'TOO_MANY'
  /** A node id that is not a base58btc libp2p peer id. */
  | 'BAD_PEER_ID'
  /** A peer id whose key is not Ed25519 (or not inside the id at all), so nothing can be verified offline. */
  | 'UNSUPPORTED_KEY_TYPE'

export interface ReceiptErrorDetails {
  /** The field being read (`agentId`, `sigLen`, …). */
  readonly field?: string | undefined
  /** The entry of a `receipts`/`payments` blob, from 0. */
  readonly index?: number | undefined
  /** Bytes available / needed, for `TRUNCATED`. */
  readonly have?: number | undefined
  readonly need?: number | undefined
}

/** Raised by the receipt and `wallet_pay` receipt decoders and encoders (SPEC §15); one-line messages. */
export class ReceiptError extends IgorError<ReceiptErrorCode> {
  override readonly name = 'ReceiptError'
  readonly field: string | undefined
  readonly index: number | undefined
  readonly have: number | undefined
  readonly need: number | undefined

  constructor(code: ReceiptErrorCode, message: string, details: ReceiptErrorDetails = {}) {
    super(code, message)
    this.field = details.field
    this.index = details.index
    this.have = details.have
    this.need = details.need
  }
}
