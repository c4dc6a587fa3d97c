import type { Epoch } from '@igor/epoch'

/** A decoded checkpoint (SPEC §4). All 64-bit fields are `bigint`, exact over their range. */
export interface Checkpoint {
  /** The format version read: 2 (legacy, no epoch), 3, or 4 (signed lineage, SPEC §12). */
  readonly version: 2 | 3 | 4
  /** Remaining budget in microcents (i64, never negative). */
  readonly budget: bigint
  /** Price per second of execution in microcents (i64, never negative). */
  readonly pricePerSecond: bigint
  /** Ticks completed so far (u64). */
  readonly tickNumber: bigint
  /** SHA-256 of the agent binary, 32 bytes (a view into the decoded input). */
  readonly wasmHash: Uint8Array
  /** Authority epoch; `Epoch.ZERO` for v0x02. */
  readonly epoch: Epoch
  /** Lease expiry, Unix nanoseconds (i64); `0n` means no lease (and always for v0x02). */
  readonly leaseExpiry: bigint
  /** The signed lineage of a v0x04 checkpoint; `null` for v0x02/v0x03. Not checked by decoding: see `verifyCheckpointSignature`. */
  readonly lineage: CheckpointLineage | null
  /** Opaque agent state: a view into the decoded input, not a copy. */
  readonly state: Uint8Array
}

/** v0x04 header fields (SPEC §12), views into the decoded input. */
export interface CheckpointLineage {
  /** SHA-256 of the previous checkpoint of the chain; 32 zero bytes for the first. */
  readonly prevHash: Uint8Array
  /** The agent's Ed25519 public key (32 bytes). */
  readonly agentPubKey: Uint8Array
  /** Ed25519 signature (64 bytes) of `bytes[0:145] ‖ state`. */
  readonly signature: Uint8Array
}

/**
 * What the encoders take: a checkpoint without `version` and `lineage`
 * (`encodeCheckpoint` writes v0x03, `encodeSignedCheckpoint` v0x04 with a fresh lineage).
 */
export type CheckpointInput = Omit<Checkpoint, 'version' | 'lineage'>

/** Everything but the state: what `readCheckpointHeader` returns. */
export interface CheckpointHeader extends Omit<Checkpoint, 'state'> {
  /** 57 (v0x02), 81 (v0x03) or 209 (v0x04): where the state starts. */
  readonly headerLength: number
}
