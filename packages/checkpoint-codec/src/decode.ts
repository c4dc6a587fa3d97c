import { Epoch } from '@igor/epoch'
import { CheckpointError, hexByte } from './errors.js'
import {
  HASH_LENGTH, HEADER_LENGTH_V2, HEADER_LENGTH_V3, HEADER_LENGTH_V4, OFFSET_AGENT_PUBKEY, OFFSET_BUDGET,
  OFFSET_GENERATION, OFFSET_LEASE_EXPIRY, OFFSET_MAJOR, OFFSET_PREV_HASH, OFFSET_PRICE, OFFSET_SIGNATURE, OFFSET_TICK,
  OFFSET_VERSION, OFFSET_WASM_HASH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, VERSION_V2, VERSION_V3, VERSION_V4,
  WASM_HASH_LENGTH
} from './layout.js'
import type { Checkpoint, CheckpointHeader } from './types.js'

function requireBytes(bytes: unknown): asserts bytes is Uint8Array {
  // A non-Uint8Array is a programming error, not bad checkpoint data, so it is
  // the one case that is not a CheckpointError.
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`checkpoint bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`)
  }
}

/**
 * Reads and validates the header only; `bytes` may end right after the header.
 * Throws `CheckpointError` for every bad input (SPEC §4).
 */
export function readCheckpointHeader(bytes: Uint8Array): CheckpointHeader {
  requireBytes(bytes)
  const length = bytes.length
  if (length === 0) throw new CheckpointError('EMPTY', 'checkpoint is empty (0 bytes)')

  const version = bytes[OFFSET_VERSION] as number
  let headerLength: number
  if (version === VERSION_V4) headerLength = HEADER_LENGTH_V4
  else if (version === VERSION_V3) headerLength = HEADER_LENGTH_V3
  else if (version === VERSION_V2) headerLength = HEADER_LENGTH_V2
  else {
    throw new CheckpointError(
      'UNSUPPORTED_VERSION',
      `unsupported checkpoint version ${hexByte(version)} (expected 0x02, 0x03 or 0x04)`,
      { version }
    )
  }
  if (length < headerLength) {
    throw new CheckpointError(
      'TOO_SHORT',
      `checkpoint header truncated: have ${length} bytes, need ${headerLength} for version ${hexByte(version)}`,
      { version, have: length, need: headerLength }
    )
  }

  // The input may be a subarray of a larger buffer (e.g. a pooled Buffer): the view must start at byteOffset.
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerLength)
  const budget = view.getBigInt64(OFFSET_BUDGET, true)
  if (budget < 0n) {
    throw new CheckpointError('NEGATIVE_BUDGET', `checkpoint budget is negative (${budget} microcents)`)
  }
  const pricePerSecond = view.getBigInt64(OFFSET_PRICE, true)
  if (pricePerSecond < 0n) {
    throw new CheckpointError('NEGATIVE_PRICE', `checkpoint pricePerSecond is negative (${pricePerSecond} microcents)`)
  }
  const tickNumber = view.getBigUint64(OFFSET_TICK, true)
  const wasmHash = bytes.subarray(OFFSET_WASM_HASH, OFFSET_WASM_HASH + WASM_HASH_LENGTH)

  if (version === VERSION_V2) {
    // SPEC §4: a v0x02 checkpoint reads as epoch (0,0), no lease.
    return { version: 2, budget, pricePerSecond, tickNumber, wasmHash, epoch: Epoch.ZERO, leaseExpiry: 0n, lineage: null, headerLength }
  }
  // u64 reads are always within Epoch's range, so this constructor cannot throw.
  const epoch = new Epoch(view.getBigUint64(OFFSET_MAJOR, true), view.getBigUint64(OFFSET_GENERATION, true))
  const leaseExpiry = view.getBigInt64(OFFSET_LEASE_EXPIRY, true)
  if (version === VERSION_V3) {
    return { version: 3, budget, pricePerSecond, tickNumber, wasmHash, epoch, leaseExpiry, lineage: null, headerLength }
  }
  // SPEC §12: v0x04 adds prevHash, agentPubKey and signature, all views into the input.
  const lineage = {
    prevHash: bytes.subarray(OFFSET_PREV_HASH, OFFSET_PREV_HASH + HASH_LENGTH),
    agentPubKey: bytes.subarray(OFFSET_AGENT_PUBKEY, OFFSET_AGENT_PUBKEY + PUBLIC_KEY_LENGTH),
    signature: bytes.subarray(OFFSET_SIGNATURE, OFFSET_SIGNATURE + SIGNATURE_LENGTH)
  }
  return { version: 4, budget, pricePerSecond, tickNumber, wasmHash, epoch, leaseExpiry, lineage, headerLength }
}

/**
 * Decodes a v0x02, v0x03 or v0x04 checkpoint. `state`, `wasmHash` and the
 * lineage fields are views into
 * `bytes` (no copy, SPEC §4): mutating `bytes` later shows through.
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const h = readCheckpointHeader(bytes)
  return {
    version: h.version,
    budget: h.budget,
    pricePerSecond: h.pricePerSecond,
    tickNumber: h.tickNumber,
    wasmHash: h.wasmHash,
    epoch: h.epoch,
    leaseExpiry: h.leaseExpiry,
    lineage: h.lineage,
    state: bytes.subarray(h.headerLength)
  }
}

/** The epoch only — cheap enough for the store's fencing check (SPEC §5). Same errors as decoding. */
export function peekEpoch(bytes: Uint8Array): Epoch {
  return readCheckpointHeader(bytes).epoch
}
