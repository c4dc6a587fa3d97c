// SPEC §15 audit: `igor-inspect --receipts <file> [--checkpoint <file>]
// [--payments <file>] [--initial-budget <microcents>] [--json]`.
import { AuditInputError, auditReceipts, renderReceiptAuditJson, renderReceiptAuditText } from '@igor/inspector'
import { EXIT_FAILURE, EXIT_OK, fail } from './io.js'
import type { InspectIo } from './io.js'
import { InputError, readInput } from './read-input.js'

export interface ReceiptsRequest {
  readonly receiptsPath: string
  readonly checkpointPath?: string | undefined
  readonly paymentsPath?: string | undefined
  readonly initialBudget?: bigint | undefined
  readonly json?: boolean | undefined
  /**
   * Bytes already read (a running node's consistent snapshot, `igord receipts`): used instead of reading
   * the path of each one given; the paths still name them in messages.
   */
  readonly read?: { readonly receipts?: Uint8Array, readonly checkpoint?: Uint8Array, readonly payments?: Uint8Array } | undefined
}

/**
 * Reads the files, audits them and prints the report; resolves to 0 when
 * VALID, 1 when INVALID or when a file cannot be read or decoded (one line on
 * stderr naming the file). Never rejects.
 */
export async function runReceipts(request: ReceiptsRequest, io: InspectIo): Promise<number> {
  const paths = { receipts: request.receiptsPath, payments: request.paymentsPath, checkpoint: request.checkpointPath }
  try {
    const given = request.read
    const receipts = given?.receipts ?? await readInput('receipts', request.receiptsPath)
    const payments = request.paymentsPath === undefined ? undefined : given?.payments ?? await readInput('payments', request.paymentsPath)
    const checkpoint = request.checkpointPath === undefined ? undefined : given?.checkpoint ?? await readInput('checkpoint', request.checkpointPath)
    const audit = auditReceipts({ receipts, payments, checkpoint, initialBudget: request.initialBudget })
    io.stdout.write(request.json === true ? renderReceiptAuditJson(audit) : renderReceiptAuditText(audit))
    return audit.valid ? EXIT_OK : EXIT_FAILURE
  } catch (error) {
    if (error instanceof AuditInputError) fail(io, `${paths[error.input] ?? error.input}: ${error.message}`)
    else if (error instanceof InputError) fail(io, error.message)
    else fail(io, `unexpected error: ${error instanceof Error ? error.message : String(error)}`)
    return EXIT_FAILURE
  }
}
