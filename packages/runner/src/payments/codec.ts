// SPEC §15 `payments` blob: `u32 count ‖ (u32 len ‖ receipt)*`, kept as the receipts' bytes (the
// runner never rewrites a receipt the agent signed). Decoding checks each entry is a well-formed
// `wallet_pay` receipt (the codec's `decodeWalletPayReceipt`); `ReceiptError` for bad bytes.
import { decodeWalletPayReceipt, encodePayments, decodePayments as decodeList } from '@igor/checkpoint-codec'
import { MAX_PAYMENTS_IN_BLOB } from './limits.js'

/** Each payment's bytes, oldest first (each decodes as a `wallet_pay` receipt). */
export function decodePayments(blob: Uint8Array): Uint8Array[] {
  const list = decodeList(blob, { maxCount: MAX_PAYMENTS_IN_BLOB })
  return list.map((r) => encodePayments([r]).subarray(8))
}

export function encodeFramedListBytes(receipts: readonly Uint8Array[]): Uint8Array {
  let length = 4
  for (const r of receipts) length += 4 + r.byteLength
  const out = new Uint8Array(length)
  const view = new DataView(out.buffer)
  view.setUint32(0, receipts.length, true)
  let pos = 4
  for (const r of receipts) {
    view.setUint32(pos, r.byteLength, true)
    out.set(r, pos + 4)
    pos += 4 + r.byteLength
  }
  return out
}

/** The amount (i64 LE, the first 8 bytes) of a payment receipt. */
export function paymentAmount(receipt: Uint8Array): bigint {
  return decodeWalletPayReceipt(receipt).amount
}
