import { allocForOverwrite } from './alloc.js'
import { CheckpointError } from './errors.js'
import {
  HASH_LENGTH, HEADER_LENGTH_V3, HEADER_LENGTH_V4, I64_MAX, I64_MIN, OFFSET_AGENT_PUBKEY, OFFSET_BUDGET,
  OFFSET_GENERATION, OFFSET_LEASE_EXPIRY, OFFSET_MAJOR, OFFSET_PREV_HASH, OFFSET_PRICE, OFFSET_SIGNATURE, OFFSET_TICK,
  OFFSET_VERSION, OFFSET_WASM_HASH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, U64_MAX, VERSION_V3, VERSION_V4,
  WASM_HASH_LENGTH
} from './layout.js'
import type { CheckpointInput } from './types.js'

const HEADER = new Uint8Array(HEADER_LENGTH_V3)
const HEADER_VIEW = new DataView(HEADER.buffer)

const isU64 = (v: unknown): v is bigint => typeof v === 'bigint' && BigInt.asUintN(64, v) === v
const isI64 = (v: unknown): v is bigint => typeof v === 'bigint' && BigInt.asIntN(64, v) === v
const isNonNegativeI64 = (v: unknown): v is bigint => typeof v === 'bigint' && BigInt.asUintN(63, v) === v

function requireBigInt(field: string, value: unknown, min: bigint, max: bigint, range: string): void {
  if (typeof value !== 'bigint') throw new TypeError(`checkpoint ${field} must be a bigint, got ${typeof value}`)
  if (value < min || value > max) throw new RangeError(`checkpoint ${field} must be in ${range}, got ${value}`)
}

function requireMicrocents(field: 'budget' | 'pricePerSecond', value: unknown): void {
  if (typeof value === 'bigint' && value < 0n) {
    // SPEC §4: negative money is refused with the same typed error the decoder uses.
    const code = field === 'budget' ? 'NEGATIVE_BUDGET' : 'NEGATIVE_PRICE'
    throw new CheckpointError(code, `checkpoint ${field} is negative (${value} microcents)`)
  }
  requireBigInt(field, value, 0n, I64_MAX, '0 … 2^63-1')
}

function requireBytes(field: string, value: unknown): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`checkpoint ${field} must be a Uint8Array`)
}

/** Slow path, reached only when the fast checks failed: throws the precise error for the first bad field. */
function explainInvalid(checkpoint: CheckpointInput): never {
  requireMicrocents('budget', checkpoint.budget)
  requireMicrocents('pricePerSecond', checkpoint.pricePerSecond)
  requireBigInt('tickNumber', checkpoint.tickNumber, 0n, U64_MAX, '0 … 2^64-1')
  requireBigInt('leaseExpiry', checkpoint.leaseExpiry, I64_MIN, I64_MAX, '-2^63 … 2^63-1')
  const epoch = checkpoint.epoch as { majorVersion?: unknown, leaseGeneration?: unknown } | null | undefined
  if (epoch === null || typeof epoch !== 'object') throw new TypeError('checkpoint epoch must be an Epoch')
  requireBigInt('epoch.majorVersion', epoch.majorVersion, 0n, U64_MAX, '0 … 2^64-1')
  requireBigInt('epoch.leaseGeneration', epoch.leaseGeneration, 0n, U64_MAX, '0 … 2^64-1')
  requireBytes('wasmHash', checkpoint.wasmHash)
  if (checkpoint.wasmHash.length !== WASM_HASH_LENGTH) {
    throw new RangeError(`checkpoint wasmHash must be ${WASM_HASH_LENGTH} bytes, got ${checkpoint.wasmHash.length}`)
  }
  requireBytes('state', checkpoint.state)
  throw new TypeError('checkpoint is invalid') // unreachable: the fast checks and these agree
}

/**
 * Validates every field and assembles the 81-byte v0x03-layout header in the
 * module's scratch buffer (version byte `version`). The returned buffer is
 * reused by the next call: copy it out before calling again.
 */
function assembleHeader(checkpoint: CheckpointInput, version: number): { header: Uint8Array, state: Uint8Array } {
  // Each field is read once into a local, so a getter cannot change it between check and write.
  const { budget, pricePerSecond, tickNumber, leaseExpiry, wasmHash, state } = checkpoint
  // Checked structurally rather than with instanceof, so an Epoch from another copy of @igor/epoch still encodes.
  const epoch = checkpoint.epoch as { majorVersion?: unknown, leaseGeneration?: unknown } | null | undefined
  const major = epoch?.majorVersion
  const generation = epoch?.leaseGeneration
  // Fast checks (asUintN/asIntN are cheaper than range comparisons on bigints); details only on failure.
  if (
    !isNonNegativeI64(budget) || !isNonNegativeI64(pricePerSecond) || !isU64(tickNumber) || !isI64(leaseExpiry) ||
    !isU64(major) || !isU64(generation) ||
    !(wasmHash instanceof Uint8Array) || wasmHash.length !== WASM_HASH_LENGTH || !(state instanceof Uint8Array)
  ) {
    explainInvalid(checkpoint)
  }
  // The header is assembled in a reused scratch buffer and copied in with the
  // state: no DataView allocated per call. Safe because every input field was
  // read above, so no user code can run (and re-enter) between the two steps.
  HEADER[OFFSET_VERSION] = version
  HEADER_VIEW.setBigInt64(OFFSET_BUDGET, budget, true)
  HEADER_VIEW.setBigInt64(OFFSET_PRICE, pricePerSecond, true)
  HEADER_VIEW.setBigUint64(OFFSET_TICK, tickNumber, true)
  HEADER.set(wasmHash, OFFSET_WASM_HASH)
  HEADER_VIEW.setBigUint64(OFFSET_MAJOR, major, true)
  HEADER_VIEW.setBigUint64(OFFSET_GENERATION, generation, true)
  HEADER_VIEW.setBigInt64(OFFSET_LEASE_EXPIRY, leaseExpiry, true)
  return { header: HEADER, state }
}

/**
 * Encodes a checkpoint as v0x03 (for an agent without an identity, SPEC §4).
 * The state is copied exactly once, straight into the output.
 *
 * Throws `CheckpointError` (`NEGATIVE_BUDGET`/`NEGATIVE_PRICE`) for negative
 * money, `RangeError` for a value outside its integer range or a wasmHash that
 * is not 32 bytes, `TypeError` for a field of the wrong type.
 */
export function encodeCheckpoint(checkpoint: CheckpointInput): Uint8Array {
  const { header, state } = assembleHeader(checkpoint, VERSION_V3)
  // Every byte is written below (header + state), so uninitialised memory never leaks out.
  const out = allocForOverwrite(HEADER_LENGTH_V3 + state.length)
  out.set(header, 0)
  out.set(state, HEADER_LENGTH_V3) // SPEC §4: the one copy of the state
  return out
}

/** What signs a v0x04 checkpoint: an `AgentIdentity` from `@igor/identity` fits. */
export interface CheckpointSigner {
  /** The 32-byte Ed25519 public key embedded at offset 113. */
  readonly publicKey: Uint8Array
  /** Ed25519 signature (64 bytes) of `data`. */
  sign(data: Uint8Array): Uint8Array
}

// Where the signing domain (bytes[0:145] ‖ state) is laid out contiguously in
// the output before the header slides into place: 64 bytes in, so that the
// state already sits at its final offset 209.
const DOMAIN_AT = SIGNATURE_LENGTH

/**
 * Encodes and signs a v0x04 checkpoint (SPEC §12): the v0x03 header, then
 * `prevHash` (32 zero bytes for the first of a chain), the signer's public
 * key, and `Ed25519(bytes[0:145] ‖ state)`. Copies the state exactly once and
 * signs it in place: the domain is assembled contiguously at offset 64 of the
 * output, signed, and then its 145 header bytes slide to offset 0 — the state
 * never moves. Same errors as `encodeCheckpoint`, plus `RangeError` for a
 * prevHash, public key or signature of the wrong size.
 */
export function encodeSignedCheckpoint(checkpoint: CheckpointInput, prevHash: Uint8Array, signer: CheckpointSigner): Uint8Array {
  if (!(prevHash instanceof Uint8Array) || prevHash.length !== HASH_LENGTH) {
    throw new RangeError(`checkpoint prevHash must be ${HASH_LENGTH} bytes`)
  }
  const publicKey = signer.publicKey
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new RangeError(`checkpoint signer public key must be ${PUBLIC_KEY_LENGTH} bytes`)
  }
  const { header, state } = assembleHeader(checkpoint, VERSION_V4)
  const out = allocForOverwrite(HEADER_LENGTH_V4 + state.length)
  out.set(header, DOMAIN_AT)
  out.set(prevHash, DOMAIN_AT + OFFSET_PREV_HASH)
  out.set(publicKey, DOMAIN_AT + OFFSET_AGENT_PUBKEY)
  out.set(state, HEADER_LENGTH_V4) // SPEC §4: the one copy of the state
  const signature = signer.sign(out.subarray(DOMAIN_AT))
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new RangeError(`checkpoint signature must be ${SIGNATURE_LENGTH} bytes`)
  }
  out.copyWithin(0, DOMAIN_AT, DOMAIN_AT + OFFSET_SIGNATURE)
  out.set(signature, OFFSET_SIGNATURE)
  return out
}
