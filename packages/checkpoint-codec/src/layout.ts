// Byte layout of a checkpoint (SPEC §4). Identical to the reference Go
// implementation, so files move between the two.

/** What `encodeCheckpoint` writes (an agent without identity); `encodeSignedCheckpoint` writes v0x04. */
export const CHECKPOINT_VERSION = 3
export const VERSION_V2 = 2
export const VERSION_V3 = 3
export const VERSION_V4 = 4

export const HEADER_LENGTH_V2 = 57
export const HEADER_LENGTH_V3 = 81
/** v0x03's 81 bytes + prevHash(32) + agentPubKey(32) + signature(64) (SPEC §12). */
export const HEADER_LENGTH_V4 = 209

export const WASM_HASH_LENGTH = 32

export const OFFSET_VERSION = 0
export const OFFSET_BUDGET = 1
export const OFFSET_PRICE = 9
export const OFFSET_TICK = 17
export const OFFSET_WASM_HASH = 25
export const OFFSET_MAJOR = 57
export const OFFSET_GENERATION = 65
export const OFFSET_LEASE_EXPIRY = 73
// v0x04 lineage (SPEC §12).
export const OFFSET_PREV_HASH = 81
export const OFFSET_AGENT_PUBKEY = 113
export const OFFSET_SIGNATURE = 145
export const HASH_LENGTH = 32
export const PUBLIC_KEY_LENGTH = 32
export const SIGNATURE_LENGTH = 64

/** Largest signed 64-bit value: the ceiling for budget, price and lease expiry. */
export const I64_MAX = (1n << 63n) - 1n
export const I64_MIN = -(1n << 63n)
export const U64_MAX = (1n << 64n) - 1n
