import type { Epoch } from '@igor/epoch'

/** A decoded checkpoint (SPEC §4). All 64-bit fields are `bigint`, exact over their range. */
export interface Checkpoint {
  /** The format version read: 2 (legacy, no epoch) or 3. */
  readonly version: 2 | 3
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
  /** Opaque agent state: a view into the decoded input, not a copy. */
  readonly state: Uint8Array
}

/** What `encodeCheckpoint` takes: a checkpoint without `version` (writers always write v0x03). */
export type CheckpointInput = Omit<Checkpoint, 'version'>

/** Everything but the state: what `readCheckpointHeader` returns. */
export interface CheckpointHeader extends Omit<Checkpoint, 'state'> {
  /** 57 (v0x02) or 81 (v0x03): where the state starts. */
  readonly headerLength: number
}
