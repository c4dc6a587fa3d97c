// SPEC §15 receipts: what the node signs receipts with, and the point of a checkpoint a receipt ends at.

/** The node's libp2p Ed25519 key: `nodeId` is its peer id string, `sign` returns 64 bytes (synchronous). */
export interface ReceiptSigner {
  readonly nodeId: string
  sign(data: Uint8Array): Uint8Array
}

/** A durable checkpoint's tick number and budget (u64 / i64 microcents). */
export interface ChargePoint {
  readonly tick: bigint
  readonly budget: bigint
}

/** `--receipt-span` default: an open receipt is sealed once it has been open this long (1 h, ns). */
export const DEFAULT_RECEIPT_SPAN_NS = 3_600_000_000_000n

/** `<agentId>.receipts` beside the checkpoint (SPEC §15). */
export const RECEIPTS_SUFFIX = '.receipts'

/** Most receipts read back from a file or a package (ours; a year of 1 h stays is ~8 800). */
export const MAX_RECEIPTS = 100_000
