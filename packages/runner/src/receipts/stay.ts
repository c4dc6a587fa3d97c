// SPEC §15: where a stay's receipts come from when it begins — the file beside the checkpoint for a
// restart (a file that does not decode is kept as `<agentId>.receipts.corrupt` and logged, never
// silently lost), the package's list for an arrival, nothing for a new agent.
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { ReceiptBook } from './book.js'
import type { ReceiptBookOptions } from './book.js'
import { decodeReceiptsFile, readReceiptsFile, receiptsFileName } from './files.js'
import { writeFileAtomic } from '../store/atomic-write.js'
import type { ChargePoint } from './types.js'

/** `'disk'`: read `<agentId>.receipts`; a list: an arrival's (or `[]` for a new agent). */
export type StayPrior = 'disk' | readonly PaymentReceipt[]

/** Reads the prior list and begins the stay at the durable checkpoint `at` (see `ReceiptBook.begin`). */
export async function beginStay(options: ReceiptBookOptions, prior: StayPrior, at: ChargePoint): Promise<ReceiptBook> {
  const list = prior === 'disk' ? await readPrior(options) : prior
  return (await ReceiptBook.begin(options, list, at)).book
}

async function readPrior(options: ReceiptBookOptions): Promise<readonly PaymentReceipt[]> {
  const bytes = await readReceiptsFile(options.dir, options.agentId)
  if (bytes === null) return []
  try {
    return decodeReceiptsFile(bytes)
  } catch (error) {
    const kept = `${receiptsFileName(options.agentId)}.corrupt`
    await writeFileAtomic(options.dir, kept, bytes)
    options.log.error({ agentId: options.agentId, kept }, `receipts file does not decode (${(error as Error).message}); kept as ${kept}, a new list begins`)
    return []
  }
}
