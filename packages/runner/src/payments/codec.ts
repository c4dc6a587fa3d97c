// SPEC §15 `payments` blob: `u32 count ‖ (u32 len ‖ receipt)*` (the codec's framed list), kept as the
// receipts' bytes (the runner never rewrites a receipt the agent signed). Decoding checks each entry is
// a well-formed `wallet_pay` receipt (the codec's `decodeWalletPayReceipt`); `ReceiptError` for bad bytes.
import { ReceiptError, decodeFramedList, decodeWalletPayReceipt, encodeFramedList } from '@igor/checkpoint-codec'
import type { WalletPayReceipt } from '@igor/checkpoint-codec'
import { MAX_PAYMENTS_IN_BLOB } from './limits.js'

/** A payments blob's entries: each receipt's own bytes (a copy, so the blob can go) and its decoded form. */
export interface DecodedPayments {
  readonly bytes: Uint8Array[]
  readonly receipts: WalletPayReceipt[]
}

/** Frames once, checks every entry decodes (errors name the entry), and copies each entry's bytes out of `blob`. */
export function decodePaymentEntries(blob: Uint8Array): DecodedPayments {
  const items = decodeFramedList(blob, 'payments', { maxCount: MAX_PAYMENTS_IN_BLOB })
  const receipts = items.map((item, index) => decodeEntry(item, index))
  return { bytes: items.map((item) => item.slice()), receipts }
}

/** Each payment's bytes, oldest first (each decodes as a `wallet_pay` receipt). */
export function decodePayments(blob: Uint8Array): Uint8Array[] {
  return decodePaymentEntries(blob).bytes
}

/** The payments blob of these receipt bytes (the codec's framing, shared with `receipts`). */
export const encodePaymentsBlob = (receipts: readonly Uint8Array[]): Uint8Array => encodeFramedList(receipts)

/** The amount (i64 LE, the first 8 bytes) of a payment receipt. */
export function paymentAmount(receipt: Uint8Array): bigint {
  return decodeWalletPayReceipt(receipt).amount
}

function decodeEntry(item: Uint8Array, index: number): WalletPayReceipt {
  try {
    return decodeWalletPayReceipt(item)
  } catch (error) {
    // The same message the codec's decodePayments gives (`payment 3: …`).
    if (!(error instanceof ReceiptError)) throw error
    throw new ReceiptError(error.code, `payment ${index}: ${error.message}`, { field: error.field, index, have: error.have, need: error.need })
  }
}
