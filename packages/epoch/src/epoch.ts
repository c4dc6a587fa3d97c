/** Largest value of an unsigned 64-bit integer: every epoch component lives in 0 … 2^64-1. */
export const U64_MAX = (1n << 64n) - 1n

function checkComponent(name: string, value: bigint): bigint {
  if (typeof value !== 'bigint') {
    throw new TypeError(`${name} must be a bigint, got ${typeof value}`)
  }
  if (value < 0n || value > U64_MAX) {
    throw new RangeError(`${name} must be in 0 … 2^64-1, got ${value}`)
  }
  return value
}

/**
 * The authority epoch `(majorVersion, leaseGeneration)` (SPEC §2).
 *
 * Ordered lexicographically: a higher major always wins, then the higher
 * generation. Instances are frozen, so an epoch handed out can never change
 * underneath the holder.
 */
export class Epoch {
  static readonly ZERO: Epoch = new Epoch(0n, 0n)

  readonly majorVersion: bigint
  readonly leaseGeneration: bigint

  constructor(majorVersion: bigint, leaseGeneration: bigint) {
    this.majorVersion = checkComponent('majorVersion', majorVersion)
    this.leaseGeneration = checkComponent('leaseGeneration', leaseGeneration)
    Object.freeze(this)
  }

  /** -1 when a is older than b, 0 when equal, 1 when newer; usable with `Array.sort`. */
  static compare(this: void, a: Epoch, b: Epoch): -1 | 0 | 1 {
    if (a.majorVersion !== b.majorVersion) return a.majorVersion < b.majorVersion ? -1 : 1
    if (a.leaseGeneration !== b.leaseGeneration) return a.leaseGeneration < b.leaseGeneration ? -1 : 1
    return 0
  }

  /** Parses the text form `(M,G)`; throws `RangeError` on anything else. */
  static parse(text: string): Epoch {
    const match = /^\((\d+),(\d+)\)$/.exec(text.trim())
    if (match === null) throw new RangeError(`not an epoch: ${JSON.stringify(text)} (expected "(M,G)")`)
    return new Epoch(BigInt(match[1] as string), BigInt(match[2] as string))
  }

  /** Strictly newer: `(1,0)` supersedes `(0,99)`; an epoch never supersedes itself. */
  supersedes(other: Epoch): boolean {
    return Epoch.compare(this, other) > 0
  }

  equals(other: Epoch): boolean {
    return this.majorVersion === other.majorVersion && this.leaseGeneration === other.leaseGeneration
  }

  /** The holder renewed its lease: `(M,G+1)`. Throws `RangeError` past 2^64-1. */
  renewed(): Epoch {
    return new Epoch(this.majorVersion, this.leaseGeneration + 1n)
  }

  /** Authority moved to another node: `(M+1,0)`. Throws `RangeError` past 2^64-1. */
  transferred(): Epoch {
    return new Epoch(this.majorVersion + 1n, 0n)
  }

  toString(): string {
    return `(${this.majorVersion},${this.leaseGeneration})`
  }

  toJSON(): { majorVersion: string, leaseGeneration: string } {
    return { majorVersion: this.majorVersion.toString(), leaseGeneration: this.leaseGeneration.toString() }
  }
}
