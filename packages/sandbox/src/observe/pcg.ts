/**
 * Go's `math/rand/v2` PCG source, bit for bit (SPEC §12: `igord simulate
 * --deterministic` serves `rand_bytes` from `NewPCG(seed, seed)`, so a run of
 * ours produces the same bytes as the reference simulator with the same seed).
 *
 * A 128-bit LCG (`state = state × mul + inc mod 2^128`) with the DXSM output
 * function, in bigint maths: the simulator is not a hot path, and bigint keeps
 * the 128-bit arithmetic obviously right.
 */
const U128 = 128
const U64 = 64
// The constants of Go's pcg.go (from pcg-cpp), as one 128-bit multiplier and increment.
const MUL = (2549297995355413924n << 64n) | 4865540595714422341n
const INC = (6364136223846793005n << 64n) | 1442695040888963407n
const CHEAP_MUL = 0xda942042e4dd58b5n
const LO_MASK = (1n << 64n) - 1n

export class GoPcg {
  private state: bigint

  /** `rand.NewPCG(seed1, seed2)`: `seed1` is the high half of the state, `seed2` the low half. */
  constructor(seed1: bigint, seed2: bigint) {
    this.state = (BigInt.asUintN(U64, seed1) << 64n) | BigInt.asUintN(U64, seed2)
  }

  /** `(*PCG).Uint64()`: advance the LCG, then DXSM ("double xorshift multiply") of the new state. */
  uint64(): bigint {
    this.state = BigInt.asUintN(U128, this.state * MUL + INC)
    let hi = this.state >> 64n
    const lo = this.state & LO_MASK
    hi ^= hi >> 32n
    hi = BigInt.asUintN(U64, hi * CHEAP_MUL)
    hi ^= hi >> 48n
    hi = BigInt.asUintN(U64, hi * (lo | 1n))
    return hi
  }

  /** `rand.New(src).Uint32()` is `uint32(src.Uint64() >> 32)`. */
  uint32(): number {
    return Number(this.uint64() >> 32n)
  }

  /**
   * Fills `target` the way the reference simulator does: one `Uint32()` per
   * byte, keeping its low 8 bits (bits 32–39 of the `Uint64()`).
   */
  fillBytes(target: Uint8Array): void {
    for (let i = 0; i < target.length; i++) target[i] = this.uint32() & 0xff
  }
}
