/**
 * Wire messages of `/igor/migrate/1.0.0` (SPEC §7). Field names are the Go
 * reference implementation's, PascalCase, so the mapping is one to one.
 */

/** Libp2p protocol id of the hand-off stream (SPEC §7). */
export const MIGRATE_PROTOCOL = '/igor/migrate/1.0.0'

/** SPEC §7 `/igor/migrate/2.0.0` (ours): a JSON header, then the large byte fields as raw sections. */
export const MIGRATE_PROTOCOL_V2 = '/igor/migrate/2.0.0'

/** Everything the target needs to resume an agent. */
export interface AgentPackage {
  AgentID: string
  /** The agent's WebAssembly binary. */
  WASMBinary: Uint8Array
  /** SHA-256 of `WASMBinary` (32 bytes; the target verifies it). */
  WASMHash: Uint8Array
  /** A checkpoint in the SPEC §4 format. */
  Checkpoint: Uint8Array
  /** The capability manifest, as its file bytes. */
  ManifestData: Uint8Array
  /** Remaining budget, microcents (int64, never negative). */
  Budget: bigint
  /** Price the agent paid per second at the source, microcents (int64, never negative). */
  PricePerSecond: bigint
  /**
   * The last tick's observations, for the target to replay (SPEC §12).
   * Omitted on the wire when undefined (a `null` decodes as undefined).
   */
  ReplayData?: ReplayData
  /**
   * Opaque JSON value carried from hop to hop. Decoded as a `RawJson` (exact
   * source text); the encoder writes a `RawJson` verbatim and any other value
   * through lossless-json (bigints exact). Omitted when undefined.
   */
  Receipts?: unknown
  /**
   * SPEC §15 `wallet_pay` (ours): the agent's `payments` blob (`u32 count ‖ (u32 len ‖ receipt)*`),
   * base64 like every Go `[]byte`, after `Receipts`; omitted when undefined or empty. A reference
   * target ignores it.
   */
  Payments?: Uint8Array
  /** Epoch major of the source's live lease (uint64; omitted on the wire when 0). */
  MajorVersion: bigint
  /** Epoch generation of the source's live lease (uint64; omitted on the wire when 0). */
  LeaseGeneration: bigint
  /**
   * The agent's 68-byte identity file (SPEC §12; the target checks it against
   * the checkpoint's key). Omitted on the wire when undefined or empty; an
   * empty or `null` field decodes as undefined, as the reference treats it.
   */
  AgentIdentity?: Uint8Array
}

/** One tick's observations (SPEC §12), the reference's `protocol.ReplayData`. */
export interface ReplayData {
  /** The agent state before the tick. */
  PreTickState: Uint8Array
  /** The tick that was recorded (uint64). */
  TickNumber: bigint
  /** Observations in the order the agent made them. Empty is written as `null`, like a Go nil slice. */
  Entries: ReplayEntry[]
}

/** One recorded hostcall result. */
export interface ReplayEntry {
  /** Hostcall id (uint16): 1 clock_now, 2 rand_bytes, 3 log_emit, 4 wallet_balance, 8 http_request, … */
  HostcallID: number
  Payload: Uint8Array
}

/** What the source writes: one per stream. */
export interface AgentTransfer {
  Package: AgentPackage
  /** The source node's peer id. */
  SourceNodeID: string
}

/** What the target answers: one per stream. */
export interface AgentStarted {
  AgentID: string
  /** The target node's peer id. */
  NodeID: string
  /** True only when the target took authority (SPEC §7 target step 3). */
  Success: boolean
  /** The reason for a refusal; empty on success. */
  Error: string
  /** Ours: the refusal's typed code (`NODE_FULL`, `TARGET_BUSY`, …); absent on success and from a reference node. */
  Code?: string
}
