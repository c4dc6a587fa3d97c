// `@igor/checkpoint-codec/portable`: the part of the codec that runs in any
// JavaScript engine, browsers included (no node: imports): decode, encode, the
// layout and the signing domain. The content hash and signature checks, which
// use node:crypto, stay on `.`; a browser brings its own SHA-256 and Ed25519.
export { CheckpointError } from './errors.js'
export type { CheckpointErrorCode, CheckpointErrorDetails } from './errors.js'
export {
  CHECKPOINT_VERSION, HEADER_LENGTH_V2, HEADER_LENGTH_V3, HEADER_LENGTH_V4, I64_MAX, WASM_HASH_LENGTH
} from './layout.js'
export type { Checkpoint, CheckpointHeader, CheckpointInput, CheckpointLineage } from './types.js'
export { decodeCheckpoint, peekEpoch, readCheckpointHeader } from './decode.js'
export { encodeCheckpoint, encodeSignedCheckpoint } from './encode.js'
export type { CheckpointSigner } from './encode.js'
export { GENESIS_PREV_HASH } from './genesis.js'
export { checkpointSigningDomain } from './signing-domain.js'
// SPEC §15: receipt bytes (verification, which needs node:crypto, stays on `.`).
export * from './receipt-exports.js'
// SPEC §12 (ours, issue 21): history segment files, read by the browser verifier too.
export * from './history-segment.js'
