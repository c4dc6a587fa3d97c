// SPEC §15 settlement on a NodeRuntime (a real worker, FAST timing) with an in-memory adapter: a refusal
// pauses the agent's ticking with `budget not valid: <reason>` in status until the adapter says valid
// again (no operator), and the adapter is told every sealed receipt this node signed, in order.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import type { LeaseConfig } from '@igor/lease'
import { tempDir, waitFor, wat } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from '../node-runtime.js'
import { seedSigner } from '../receipts/test-signer.js'
import type { BudgetAdapter, BudgetVerdict } from './types.js'

const LEASE: LeaseConfig = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 100 }
const COUNTER = `(module
  (memory (export "memory") 1)
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i32.store (i32.const 1024) (i32.add (i32.load (i32.const 1024)) (i32.const 1))) (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 4))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 1024) (local.get 0) (local.get 1)))
  (func (export "malloc") (param i32) (result i32) (i32.const 8192)))`

class FakeAdapter implements BudgetAdapter {
  verdict: BudgetVerdict = { valid: true }
  asked = 0
  readonly recorded: Array<{ receipt: PaymentReceipt, sealed: boolean }> = []
  validateBudget(): BudgetVerdict {
    this.asked++
    return this.verdict
  }

  recordSettlement(receipt: PaymentReceipt, info: { sealed: boolean }): void {
    this.recorded.push({ receipt, sealed: info.sealed })
  }
}

let dir: { path: string, remove: () => Promise<void> }
let rt: NodeRuntime | null = null
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => {
  await rt?.shutdown()
  rt = null
  await dir.remove()
})

describe('settlement on a NodeRuntime (SPEC §15)', () => {
  it('a refusal pauses ticking with the reason in status; a later valid verdict resumes it; sealed receipts are recorded in order', async () => {
    const adapter = new FakeAdapter()
    const wasmPath = join(dir.path, 'counter.wasm')
    await writeFile(wasmPath, await wat(COUNTER))
    rt = await NodeRuntime.open({ dataDir: join(dir.path, 'node'), lease: LEASE, pricePerSecond: 1_000_000n, timing: FAST, receiptSigner: seedSigner(), receiptSpanNs: 1n, budgetAdapter: adapter })
    await rt.startAgent({ wasmPath, budget: 1_000_000_000n })
    const row = async (): Promise<{ tickNumber: bigint, halted: string | null }> => (await rt!.status()).find((s) => s.agentId === 'counter')!
    await waitFor('ticks and two sealed receipts', async () => (await row()).tickNumber >= 5n && adapter.recorded.filter((r) => r.sealed).length >= 2)
    adapter.verdict = { valid: false, reason: 'no money' }
    await waitFor('paused', async () => (await row()).halted === 'budget not valid: no money')
    const paused = (await row()).tickNumber
    const asked = adapter.asked
    await waitFor('asked again while paused', () => adapter.asked >= asked + 5)
    expect((await row()).tickNumber).toBe(paused)
    adapter.verdict = { valid: true }
    await waitFor('ticking again', async () => (await row()).tickNumber > paused + 2n)
    expect((await row()).halted).toBeNull()
    const sealed = adapter.recorded.filter((r) => r.sealed).map((r) => r.receipt)
    for (let i = 1; i < sealed.length; i++) expect(sealed[i]!.epochStart).toBe(sealed[i - 1]!.epochEnd + 1n)
    expect(adapter.recorded.some((r) => !r.sealed)).toBe(true)
  }, 60_000)
})
