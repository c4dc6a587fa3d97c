// SPEC §15 `wallet_receipt`: the `receipts` blob the node sends (`u32 count ‖ (u32 len ‖ receipt)*`) cut
// into its entries (views, no copies). The node writes the blob; anything malformed here is a node bug,
// answered with the entries read so far rather than a failed tick.
export function splitReceipts(blob: Uint8Array): Uint8Array[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  if (blob.byteLength < 4) return []
  const count = view.getUint32(0, true)
  const out: Uint8Array[] = []
  let offset = 4
  for (let i = 0; i < count && offset + 4 <= blob.byteLength; i++) {
    const length = view.getUint32(offset, true)
    offset += 4
    if (length > blob.byteLength - offset) break
    out.push(blob.subarray(offset, offset + length))
    offset += length
  }
  return out
}
