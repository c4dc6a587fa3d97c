// SPEC §15 receipts on a NodeRuntime (a real worker, FAST timing): the stay's open receipt follows the
// checkpoints, conservation holds against the initial budget, a restart seals it, `--receipt-span`
// seals on time, and the agent reads its receipts through wallet_receipt_count / wallet_receipt.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeReceipts } from '@igor/checkpoint-codec'
import { auditReceipts } from '@igor/inspector'
import type { LeaseConfig } from '@igor/lease'
import { tempDir, waitFor, wat } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from '../node-runtime.js'
import type { NodeRuntimeOptions } from '../node-runtime.js'
import { seedSigner } from './test-signer.js'

const LEASE: LeaseConfig = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 200 }
const SIGNER = seedSigner()
const BUDGET = 1_000_000_000n

/** State (8 bytes at 1024): u32 the receipt count its last tick saw, i32 what wallet_receipt(0) answered. */
const READER = `(module
  (import "igor" "wallet_receipt_count" (func $count (result i32)))
  (import "igor" "wallet_receipt" (func $receipt (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i32.store (i32.const 1024) (call $count))
    (i32.store (i32.const 1028) (call $receipt (i32.const 0) (i32.const 4096) (i32.const 4096)))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 1024) (local.get 0) (local.get 1)))
  (func (export "malloc") (param i32) (result i32) (i32.const 8192)))`

let dir: { path: string, remove: () => Promise<void> }
const open: NodeRuntime[] = []
let wasmPath = ''

async function runtime(options: Partial<NodeRuntimeOptions> = {}, signed = true): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir: join(dir.path, 'node'), lease: LEASE, pricePerSecond: 1_000_000n, timing: FAST, ...(signed ? { receiptSigner: SIGNER } : {}), ...options })
  open.push(rt)
  return rt
}
async function stopAll(): Promise<void> {
  for (const rt of open.splice(0)) await rt.shutdown()
}
const files = async (): Promise<{ receipts: Uint8Array, checkpoint: Uint8Array }> => ({
  receipts: await readFile(join(dir.path, 'node', 'checkpoints', 'reader.receipts')),
  checkpoint: await readFile(join(dir.path, 'node', 'checkpoints', 'reader.checkpoint'))
})
async function seen(rt: NodeRuntime): Promise<{ count: number, first: number }> {
  const state = (await rt.store.load('reader'))!.state
  const view = new DataView(state.buffer, state.byteOffset, 8)
  return { count: view.getUint32(0, true), first: view.getInt32(4, true) }
}

beforeEach(async () => {
  dir = await tempDir()
  wasmPath = join(dir.path, 'reader.wasm')
  await writeFile(wasmPath, await wat(READER))
  await writeFile(join(dir.path, 'reader.manifest.json'), '{"capabilities": {"wallet": {"version": 1}}}')
})
afterEach(async () => { await stopAll(); await dir.remove() })

describe('receipts on a NodeRuntime (SPEC §15)', () => {
  it('one open receipt per stay, conservation from the initial budget, sealed by a restart, visible to the agent', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath, budget: BUDGET })
    // The first checkpoint of a new agent charges nothing: nothing is outside a receipt.
    expect(auditReceipts({ ...await files(), initialBudget: BUDGET }).valid).toBe(true)
    await waitFor('a charging checkpoint seen by the agent', async () => (await seen(rt)).count >= 1)
    await stopAll()
    let audit = auditReceipts({ ...await files(), initialBudget: BUDGET })
    expect(audit.problems).toEqual([])
    expect(audit.receipts).toHaveLength(1)
    expect(audit.receipts[0]).toMatchObject({ nodeId: SIGNER.nodeId, epochStart: 1n, signatureValid: true })
    expect(audit.charged).toBeGreaterThan(0n)
    // wallet_receipt(0) wrote receipt 0: 176 bytes for `survivor` in the §15 vector, two fewer for `reader`.
    expect((await seen(rt)).first).toBe(174)

    const again = await runtime()
    await again.startAgent({ wasmPath, budget: 1n })
    await waitFor('the sealed receipt and the new open one seen', async () => (await seen(again)).count === 2)
    await stopAll()
    audit = auditReceipts({ ...await files(), initialBudget: BUDGET })
    expect(audit.problems).toEqual([])
    expect(audit.receipts).toHaveLength(2)
    expect(audit.receipts[1]!.epochStart).toBe(audit.receipts[0]!.epochEnd + 1n)
  }, 60_000)

  it('--receipt-span: a receipt open longer than the span is sealed at the next charging checkpoint', async () => {
    const rt = await runtime({ receiptSpanNs: 1n })
    await rt.startAgent({ wasmPath, budget: BUDGET })
    await waitFor('three sealed receipts', async () => decodeReceipts((await files()).receipts).length >= 4)
    await stopAll()
    const audit = auditReceipts({ ...await files(), initialBudget: BUDGET })
    expect(audit.problems).toEqual([])
  }, 60_000)

  it('without a signer nothing is written and charging is unchanged', async () => {
    const rt = await runtime({}, false)
    await rt.startAgent({ wasmPath, budget: BUDGET })
    await waitFor('ticks', async () => (await rt.store.load('reader'))!.tickNumber >= 3n)
    await stopAll()
    await expect(readFile(join(dir.path, 'node', 'checkpoints', 'reader.receipts'))).rejects.toThrow(/ENOENT/)
  }, 60_000)
})
