// SPEC §15: where a stay's receipts come from when it begins — the file beside the checkpoint for a
// restart (a file that does not decode is kept as `<agentId>.receipts.corrupt` and logged, never
// silently lost), the package's list for an arrival, nothing for a new agent.
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { ReceiptBook } from './book.js'
import type { ReceiptBookOptions } from './book.js'
import { decodeReceiptsFile, readReceiptsFile, receiptsFileName } from './files.js'
import { writeFileAtomic } from '../store/atomic-write.js'
import type { ChargePoint } from './types.js'

/** `'disk'`: read `<agentId>.receipts` (and repair it); `{ arrived }`: a package's verified list (kept as it is); `[]`: a new agent. */
export type StayPrior = 'disk' | { readonly arrived: readonly PaymentReceipt[] } | readonly PaymentReceipt[]

/** Reads the prior list and begins the stay at the durable checkpoint `at` (see `ReceiptBook.begin`). */
export async function beginStay(options: ReceiptBookOptions, prior: StayPrior, at: ChargePoint, unreflectedPaid = 0n): Promise<ReceiptBook> {
  if (prior === 'disk') return (await ReceiptBook.begin(options, await readPrior(options), at, true, unreflectedPaid)).book
  // An arrival's list is another node's account: never repaired (nor caught up) by this node.
  if ('arrived' in prior) return (await ReceiptBook.begin(options, prior.arrived, at, false)).book
  return (await ReceiptBook.begin(options, prior, at, true, unreflectedPaid)).book
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
