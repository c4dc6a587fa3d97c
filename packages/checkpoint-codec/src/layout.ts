// Byte layout of a checkpoint (SPEC §4). Identical to the reference Go
// implementation, so files move between the two.

export const CHECKPOINT_VERSION = 3
export const VERSION_V2 = 2
export const VERSION_V3 = 3

export const HEADER_LENGTH_V2 = 57
export const HEADER_LENGTH_V3 = 81

export const WASM_HASH_LENGTH = 32

export const OFFSET_VERSION = 0
export const OFFSET_BUDGET = 1
export const OFFSET_PRICE = 9
export const OFFSET_TICK = 17
export const OFFSET_WASM_HASH = 25
export const OFFSET_MAJOR = 57
export const OFFSET_GENERATION = 65
export const OFFSET_LEASE_EXPIRY = 73

/** Largest signed 64-bit value: the ceiling for budget, price and lease expiry. */
export const I64_MAX = (1n << 63n) - 1n
export const I64_MIN = -(1n << 63n)
export const U64_MAX = (1n << 64n) - 1n
