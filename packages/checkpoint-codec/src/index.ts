export { CheckpointError } from './errors.js'
export type { CheckpointErrorCode, CheckpointErrorDetails } from './errors.js'
export {
  CHECKPOINT_VERSION, HEADER_LENGTH_V2, HEADER_LENGTH_V3, HEADER_LENGTH_V4, I64_MAX, WASM_HASH_LENGTH
} from './layout.js'
export type { Checkpoint, CheckpointHeader, CheckpointInput, CheckpointLineage } from './types.js'
export { decodeCheckpoint, peekEpoch, readCheckpointHeader } from './decode.js'
export { encodeCheckpoint, encodeSignedCheckpoint } from './encode.js'
export type { CheckpointSigner } from './encode.js'
export { GENESIS_PREV_HASH, checkpointContentHash, checkpointSigningDomain, verifyCheckpointSignature } from './lineage.js'
// SPEC §15: payment receipts, wallet_pay receipts, their blobs and offline verification.
export * from './receipt-exports.js'
export { verifyReceipt, verifyWalletPayReceipt } from './receipt-verify.js'
export type { ReceiptCheck } from './receipt-verify.js'
// SPEC §12 (ours, issue 21): history segment files.
export * from './history-segment.js'
