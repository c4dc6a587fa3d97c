#!/usr/bin/env node
// Regenerates examples/survivor.checkpoint, the v0x03 checkpoint the README
// shows with `node apps/inspect/dist/cli.js examples/survivor.checkpoint`.
// Needs the codec built first: `pnpm --filter @igor/checkpoint-codec... build`.
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { encodeCheckpoint } from '../packages/checkpoint-codec/dist/index.js'
import { Epoch } from '../packages/epoch/dist/index.js'

// The hash of the smallest valid WebAssembly module (magic + version 1), so
// `--wasm` can be demonstrated with an 8-byte file.
const EMPTY_WASM_MODULE = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)
const wasmHash = createHash('sha256').update(EMPTY_WASM_MODULE).digest()

// A plausible 24-byte agent state: a u64 tick counter, the u64 Unix-ns time of
// the last tick, and an 8-byte ASCII tag (visible in the hex dump).
const state = new Uint8Array(24)
const view = new DataView(state.buffer)
view.setBigUint64(0, 10n, true)
view.setBigUint64(8, 1_699_999_990_000_000_000n, true)
state.set(new TextEncoder().encode('survivor'), 16)

const bytes = encodeCheckpoint({
  budget: 2_000_000n,
  pricePerSecond: 1500n,
  tickNumber: 10n,
  wasmHash,
  epoch: new Epoch(3n, 7n),
  leaseExpiry: 1_700_000_000_000_000_000n,
  state
})

const out = fileURLToPath(new URL('./survivor.checkpoint', import.meta.url))
writeFileSync(out, bytes)
writeFileSync(fileURLToPath(new URL('./empty-agent.wasm', import.meta.url)), EMPTY_WASM_MODULE)
console.log(`wrote ${out} (${bytes.length} bytes)`)
