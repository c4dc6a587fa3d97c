import { decodeCheckpoint, verifyCheckpointSignature } from '@igor/checkpoint-codec'
import type { Epoch } from '@igor/epoch'
import { didKey } from '@igor/identity'
import { toHex } from './format.js'
import { sha256Hex } from './sha256.js'

/** How many state bytes a report keeps for the hex dump (SPEC §8). */
export const STATE_PREVIEW_LENGTH = 256

export interface WasmVerification {
  /** The path as the caller gave it; only used for display. */
  readonly path: string
  readonly matches: boolean
  /** The checkpoint's wasmHash, 64 lowercase hex. */
  readonly expectedHash: string
  /** SHA-256 of the given WASM bytes, 64 lowercase hex. */
  readonly actualHash: string
}

/** The signed lineage of a v0x04 checkpoint (SPEC §12). */
export interface LineageReport {
  /** The embedded agent public key, 64 lowercase hex. */
  readonly agentPubKey: string
  /** `did:key:z…` of that key. */
  readonly agentDid: string
  /** 64 lowercase hex; all zeros for the first checkpoint of a chain. */
  readonly prevHash: string
  /** 128 lowercase hex. */
  readonly signature: string
  /** Whether the signature verifies with the embedded key. */
  readonly signatureValid: boolean
  /** SHA-256 of the whole checkpoint, 64 lowercase hex (the next checkpoint's prevHash). */
  readonly contentHash: string
}

/** Every fact the inspector shows (SPEC §8, §12). */
export interface CheckpointReport {
  readonly version: 2 | 3 | 4
  readonly budget: bigint
  readonly pricePerSecond: bigint
  readonly tickNumber: bigint
  /** 64 lowercase hex. */
  readonly wasmHash: string
  /** `null` for v0x02 (no epoch on disk; the codec reads it as (0,0)). */
  readonly epoch: Epoch | null
  /** Unix ns; `0n` = no lease; `null` for v0x02. */
  readonly leaseExpiry: bigint | null
  readonly headerSize: number
  readonly totalSize: number
  readonly stateSize: number
  /** A copy of the first 256 state bytes (at most). */
  readonly statePreview: Uint8Array
  /** `null` unless WASM bytes were given. */
  readonly wasmVerified: WasmVerification | null
  /** `null` for v0x02/v0x03. */
  readonly lineage: LineageReport | null
}

export interface InspectOptions {
  /** The agent binary to check against the checkpoint's wasmHash. */
  readonly wasm?: { readonly path: string, readonly bytes: Uint8Array }
}

/** Decodes `bytes` into a report; throws the codec's `CheckpointError` for invalid input. */
export function inspectCheckpoint(bytes: Uint8Array, options: InspectOptions = {}): CheckpointReport {
  const checkpoint = decodeCheckpoint(bytes)
  const hasEpoch = checkpoint.version >= 3
  const wasmHash = toHex(checkpoint.wasmHash)
  let wasmVerified: WasmVerification | null = null
  if (options.wasm !== undefined) {
    const actualHash = sha256Hex(options.wasm.bytes)
    wasmVerified = { path: options.wasm.path, matches: actualHash === wasmHash, expectedHash: wasmHash, actualHash }
  }
  return {
    version: checkpoint.version,
    budget: checkpoint.budget,
    pricePerSecond: checkpoint.pricePerSecond,
    tickNumber: checkpoint.tickNumber,
    wasmHash,
    epoch: hasEpoch ? checkpoint.epoch : null,
    leaseExpiry: hasEpoch ? checkpoint.leaseExpiry : null,
    headerSize: bytes.length - checkpoint.state.length,
    totalSize: bytes.length,
    stateSize: checkpoint.state.length,
    // A copy, so the report stays valid after the caller reuses its buffer.
    statePreview: checkpoint.state.slice(0, STATE_PREVIEW_LENGTH),
    wasmVerified,
    lineage: checkpoint.lineage === null
      ? null
      : {
          agentPubKey: toHex(checkpoint.lineage.agentPubKey),
          agentDid: didKey(checkpoint.lineage.agentPubKey),
          prevHash: toHex(checkpoint.lineage.prevHash),
          signature: toHex(checkpoint.lineage.signature),
          signatureValid: verifyCheckpointSignature(bytes),
          contentHash: sha256Hex(bytes)
        }
  }
}
