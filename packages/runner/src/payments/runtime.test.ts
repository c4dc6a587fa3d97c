// SPEC §15 wallet_pay on a NodeRuntime (a real worker, FAST timing): each payment lowers the budget the
// node checkpoints, is logged in `<agentId>.payments` signed by the agent's key, and the receipts leave
// it out of their cost, so the audit proves conservation (initial − charged − paid = checkpoint) before
// and after a restart.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodePayments, verifyWalletPayReceipt } from '@igor/checkpoint-codec'
import { auditReceipts } from '@igor/inspector'
import type { LeaseConfig } from '@igor/lease'
import { tempDir, waitFor, wat } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from '../node-runtime.js'
import { seedSigner } from '../receipts/test-signer.js'
import { readIdentityFile } from '@igor/identity'

const LEASE: LeaseConfig = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 100 }
const BUDGET = 1_000_000_000n
const AMOUNT = 1000n

/** Each tick pays 1000 to "shop"; state (8 bytes at 1024): i32 payments that succeeded, i32 the last answer. */
const PAYER = `(module
  (import "igor" "wallet_pay" (func $pay (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "shop")
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32) (local $r i32)
    (local.set $r (call $pay (i64.const 1000) (i32.const 512) (i32.const 4) (i32.const 600) (i32.const 0) (i32.const 2048) (i32.const 4096)))
    (i32.store (i32.const 1028) (local.get $r))
    (if (i32.gt_s (local.get $r) (i32.const 0)) (then (i32.store (i32.const 1024) (i32.add (i32.load (i32.const 1024)) (i32.const 1)))))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 1024) (local.get 0) (local.get 1)))
  (func (export "malloc") (param i32) (result i32) (i32.const 8192)))`

let dir: { path: string, remove: () => Promise<void> }
const open: NodeRuntime[] = []
let wasmPath = ''
const at = (name: string): string => join(dir.path, 'node', 'checkpoints', name)
const atA = (name: string): string => join(dir.path, 'a', 'checkpoints', name)

async function runtime(sub = 'node', seed?: Uint8Array): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir: join(dir.path, sub), lease: LEASE, pricePerSecond: 1_000_000n, timing: FAST, receiptSigner: seedSigner(seed) })
  open.push(rt)
  return rt
}
async function stopAll(): Promise<void> {
  for (const rt of open.splice(0)) await rt.shutdown()
}
async function audit(): Promise<ReturnType<typeof auditReceipts>> {
  return auditReceipts({
    receipts: await readFile(at('payer.receipts')), payments: await readFile(at('payer.payments')), checkpoint: await readFile(at('payer.checkpoint')), initialBudget: BUDGET
  })
}
async function paidCount(rt: NodeRuntime): Promise<number> {
  const state = (await rt.store.load('payer'))!.state
  return new DataView(state.buffer, state.byteOffset, 8).getInt32(0, true)
}

beforeEach(async () => {
  dir = await tempDir()
  wasmPath = join(dir.path, 'payer.wasm')
  await writeFile(wasmPath, await wat(PAYER))
})
afterEach(async () => { await stopAll(); await dir.remove() })

describe('wallet_pay on a NodeRuntime (SPEC §15)', () => {
  it('payments are deducted, logged and signed by the agent; conservation holds across a restart', async () => {
    await writeFile(join(dir.path, 'payer.manifest.json'), '{"capabilities": {"x402": {"version": 1, "options": {"allowed_recipients": ["shop"], "max_payment_microcents": 5000}}}}')
    const rt = await runtime()
    await rt.startAgent({ wasmPath, budget: BUDGET })
    await waitFor('three payments checkpointed', async () => (await paidCount(rt)) >= 3)
    await stopAll()
    const identity = await readIdentityFile(at('payer.identity'))
    const payments = decodePayments(await readFile(at('payer.payments')))
    const count = await paidCount(open[0] ?? rt)
    expect(payments).toHaveLength(count)
    for (const p of payments) {
      expect(p).toMatchObject({ amount: AMOUNT, recipient: 'shop' })
      expect(verifyWalletPayReceipt(p, identity.publicKey)).toEqual({ ok: true })
    }
    let report = await audit()
    expect(report.problems).toEqual([])
    expect(report.paid).toBe(AMOUNT * BigInt(count))
    expect(report.conservation?.ok).toBe(true)

    const again = await runtime()
    await again.startAgent({ wasmPath, budget: 1n })
    await waitFor('more payments after the restart', async () => (await paidCount(again)) >= count + 2)
    await stopAll()
    report = await audit()
    expect(report.problems).toEqual([])
    expect(report.payments.length).toBeGreaterThanOrEqual(count + 2)
    expect(report.conservation?.ok).toBe(true)
  }, 60_000)

  it('a hand-off carries the payments (Package.Payments); the target verifies and keeps them; a tampered one is refused', async () => {
    await writeFile(join(dir.path, 'payer.manifest.json'), '{"capabilities": {"x402": {"version": 1, "options": {"allowed_recipients": ["shop"]}}}}')
    const source = await runtime('a')
    await source.startAgent({ wasmPath, budget: BUDGET })
    await waitFor('two payments checkpointed', async () => (await paidCount(source)) >= 2)
    const snapshot = await source.beginHandoff('payer', 'peer-b')
    await snapshot.persisted
    expect(snapshot.payments).toBeDefined()
    const sent = decodePayments(snapshot.payments!)
    expect(sent.length).toBeGreaterThanOrEqual(2)
    const incoming = {
      agentId: 'payer', wasm: snapshot.module.wasm, wasmHash: snapshot.module.prepared.wasmHash, checkpoint: snapshot.checkpoint,
      manifestData: snapshot.module.manifest.raw, sourceEpoch: snapshot.epoch, sourceNodeId: 'peer-a', identity: snapshot.identity!,
      ...(snapshot.receipts !== undefined ? { receipts: snapshot.receipts } : {})
    }
    const target = await runtime('b', new Uint8Array(32).fill(3))
    // A payment whose amount was raised after signing: refused with the reason, nothing written.
    const tampered = snapshot.payments!.slice()
    tampered[8] = (tampered[8]! + 1) & 0xff
    await expect(target.admitAgent({ ...incoming, payments: tampered })).rejects.toMatchObject({ code: 'PAYMENTS_INVALID', message: expect.stringMatching(/^Package\.Payments of payer: payment 0 /) as string })
    await expect(target.admitAgent({ ...incoming, payments: Uint8Array.of(9, 0, 0, 0) })).rejects.toMatchObject({ code: 'PAYMENTS_INVALID' })
    expect(await target.store.listAgents()).toEqual([])
    await target.admitAgent({ ...incoming, payments: snapshot.payments! })
    await source.completeHandoff('payer', 'peer-b')
    target.startAdmitted('payer')
    await expect(readFile(atA('payer.payments'))).rejects.toThrow(/ENOENT/) // left with the agent
    const kept = decodePayments(await readFile(join(dir.path, 'b', 'checkpoints', 'payer.payments')))
    expect(kept.length).toBe(sent.length)
    await waitFor('payments on the target', async () => (await readFile(join(dir.path, 'b', 'checkpoints', 'payer.payments')).then((b) => decodePayments(b).length)) > sent.length)
    await stopAll()
    const report = auditReceipts({
      receipts: await readFile(join(dir.path, 'b', 'checkpoints', 'payer.receipts')), payments: await readFile(join(dir.path, 'b', 'checkpoints', 'payer.payments')),
      checkpoint: await readFile(join(dir.path, 'b', 'checkpoints', 'payer.checkpoint')), initialBudget: BUDGET
    })
    expect(report.problems).toEqual([])
    expect(report.nodes).toHaveLength(2)
  }, 60_000)

  it('an empty allow-list pays nothing: −3, the budget only charged for compute, no payments file', async () => {
    await writeFile(join(dir.path, 'payer.manifest.json'), '{"capabilities": {"x402": {"version": 1}}}')
    const rt = await runtime()
    await rt.startAgent({ wasmPath, budget: BUDGET })
    await waitFor('ticks', async () => (await rt.store.load('payer'))!.tickNumber >= 3n)
    const state = (await rt.store.load('payer'))!.state
    expect(new DataView(state.buffer, state.byteOffset, 8).getInt32(4, true)).toBe(-3)
    await stopAll()
    await expect(readFile(at('payer.payments'))).rejects.toThrow(/ENOENT/)
    const report = auditReceipts({ receipts: await readFile(at('payer.receipts')), checkpoint: await readFile(at('payer.checkpoint')), initialBudget: BUDGET })
    expect(report.problems).toEqual([])
  }, 60_000)
})
