// Shared fixtures for the checkpoint-shaped benchmarks (codec, store).
import { Epoch } from '@igor/epoch'

/** The state sizes SPEC-level targets are stated for. */
export const STATE_SIZES = [
  ['1 KiB', 1024],
  ['1 MiB', 1024 * 1024],
  ['16 MiB', 16 * 1024 * 1024]
]

/** A CheckpointInput with a `size`-byte state whose pages are all touched. */
export function sampleCheckpointInput(size) {
  const state = new Uint8Array(size)
  for (let i = 0; i < size; i += 4096) state[i] = i & 0xff
  return {
    budget: 2_000_000n,
    pricePerSecond: 1000n,
    tickNumber: 42n,
    wasmHash: new Uint8Array(32).fill(0xcd),
    epoch: new Epoch(3n, 7n),
    leaseExpiry: 1_700_000_000_000_000_000n,
    state
  }
}
