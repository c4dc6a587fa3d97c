// SPEC §15 audit: which input did not decode, so a CLI can name the file.
import { CheckpointError, ReceiptError } from '@igor/checkpoint-codec'
import { IgorError } from '@igor/errors'

export type AuditInput = 'receipts' | 'payments' | 'checkpoint'
export type AuditInputErrorCode = 'BAD_RECEIPTS' | 'BAD_PAYMENTS' | 'BAD_CHECKPOINT'

const CODES: Record<AuditInput, AuditInputErrorCode> = { receipts: 'BAD_RECEIPTS', payments: 'BAD_PAYMENTS', checkpoint: 'BAD_CHECKPOINT' }

/**
 * An audit input whose bytes do not decode. `input` names it; the message is
 * the decoder's one line; `cause` is the codec's `ReceiptError` or `CheckpointError`.
 */
export class AuditInputError extends IgorError<AuditInputErrorCode> {
  override readonly name = 'AuditInputError'
  constructor(readonly input: AuditInput, cause: ReceiptError | CheckpointError) {
    super(CODES[input], cause.message, { cause })
  }
}

/** Runs a decoder, turning its typed error into an `AuditInputError` for `input`. */
export function decodeInput<T>(input: AuditInput, decode: () => T): T {
  try {
    return decode()
  } catch (error) {
    if (error instanceof ReceiptError || error instanceof CheckpointError) throw new AuditInputError(input, error)
    throw error
  }
}
