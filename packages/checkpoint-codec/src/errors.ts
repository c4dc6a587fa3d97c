import { IgorError } from '@igor/errors'
/** Why a checkpoint was refused (SPEC §4). Stable strings: callers branch on them. */
export type CheckpointErrorCode =
  | 'EMPTY'
  | 'UNSUPPORTED_VERSION'
  | 'TOO_SHORT'
  | 'NEGATIVE_BUDGET'
  | 'NEGATIVE_PRICE'

export interface CheckpointErrorDetails {
  /** The version byte read, for `UNSUPPORTED_VERSION` and `TOO_SHORT`. */
  readonly version?: number
  /** Bytes available, for `TOO_SHORT`. */
  readonly have?: number
  /** Bytes the header needs, for `TOO_SHORT`. */
  readonly need?: number
}

/**
 * The only error `decodeCheckpoint` raises for a `Uint8Array` input (SPEC §4),
 * and what `encodeCheckpoint` raises for a negative budget or price.
 */
export class CheckpointError extends IgorError<CheckpointErrorCode> {
  override readonly name = 'CheckpointError'
  readonly version: number | undefined
  readonly have: number | undefined
  readonly need: number | undefined

  constructor(code: CheckpointErrorCode, message: string, details: CheckpointErrorDetails = {}) {
    super(code, message)
    this.version = details.version
    this.have = details.have
    this.need = details.need
  }
}

/** `0x07` — version bytes are always shown as two hex digits. */
export function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`
}
