import { MAX_MANIFEST_BYTES, MAX_TICK_LOG_BYTES } from '@igor/runner'

/**
 * Per-field limits of an arriving `AgentTransfer` (SPEC §7 "What a peer can
 * and cannot do"): the decoder refuses a field past its limit before building
 * it. Byte fields are counted decoded. Every value an honest source sends
 * passes (see the migration README, "Admission is bounded in memory").
 */
export interface DecodeLimits {
  /** `AgentID` and `SourceNodeID` text (ids are at most 128 characters; peer ids about 52). */
  readonly maxIdBytes: number
  /** `WASMHash` (32 bytes when valid; the runtime says so). */
  readonly maxHashBytes: number
  /** `ManifestData` (the runner reads manifests up to 1 MiB). */
  readonly maxManifestBytes: number
  /** `AgentIdentity` (68 bytes when valid). */
  readonly maxIdentityBytes: number
  /** `ReplayData.Entries` count. The runner records at most this many per tick and the source sends no more. */
  readonly maxReplayEntries: number
  /** `ReplayData.Entries` as the runner packs them (6 bytes a header + the payload): the runner's own per-tick cap. */
  readonly maxReplayLogBytes: number
  /** `Receipts` as JSON text. */
  readonly maxReceiptsBytes: number
  /** Receipts in the `Receipts` blob (its leading u32 count, SPEC §13). */
  readonly maxReceipts: number
  /** `Payments`, decoded bytes (SPEC §15 wallet_pay). */
  readonly maxPaymentsBytes: number
  /** Member names longer than this are validated but never decoded (no known field is this long). */
  readonly maxKeyBytes: number
}

/** Entries in one tick's replay log: 100 000 (SPEC §12; a tick of an honest agent makes a few dozen). */
export const MAX_REPLAY_ENTRIES = 100_000

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxIdBytes: 1024,
  maxHashBytes: 1024,
  maxManifestBytes: MAX_MANIFEST_BYTES,
  maxIdentityBytes: 4096,
  maxReplayEntries: MAX_REPLAY_ENTRIES,
  maxReplayLogBytes: MAX_TICK_LOG_BYTES,
  // 100 000 receipts of at most ~330 bytes (a 128-character agent id), base64: 44 MB.
  maxReceiptsBytes: 48 * 1024 * 1024,
  maxReceipts: 100_000,
  // 100 000 payments of ~150 bytes (a short recipient and memo); a longer list is refused, not decoded.
  maxPaymentsBytes: 32 * 1024 * 1024,
  maxKeyBytes: 256
}

/**
 * What one decoded entry costs beyond its payload bytes (the entry object, a
 * Uint8Array and its ArrayBuffer in V8), charged against the memory ceilings.
 */
export const ENTRY_OVERHEAD_BYTES = 256

/**
 * Memory an admission holds while it decodes (SPEC §7: a ceiling per
 * admission and per node, counted in memory, not in bytes received).
 */
export interface MemoryLedger {
  /** Counts `bytes` more; throws `TRANSFER_TOO_LARGE` (this admission) or `TARGET_BUSY` (the node) when over. */
  take(bytes: number): void
  /** `bytes` taken earlier are free again (a decoder's intermediate pieces, once joined). */
  give(bytes: number): void
}
