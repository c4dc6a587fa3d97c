// `igord simulate` serves SPEC §15 ids: wallet_pay (9) against the simulated budget, replayed with --verify;
// wallet_receipt_count/wallet_receipt (5, 6) with no receipts; deterministic receipts repeat byte for byte.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { silentLogger } from '@igor/sandbox'
import { tempDir, wat } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { simulate } from './simulate.js'

/** Each tick: wallet_pay(1000 → "shop"), keeps the answer and the first 8 bytes after it; wallet_receipt_count; wallet_receipt(0). */
const PAYER = `(module
  (import "igor" "wallet_pay" (func $pay (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "igor" "wallet_receipt_count" (func $count (result i32)))
  (import "igor" "wallet_receipt" (func $receipt (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "shop")
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i32.store (i32.const 1024) (call $pay (i64.const 1000) (i32.const 512) (i32.const 4) (i32.const 600) (i32.const 0) (i32.const 2048) (i32.const 4096)))
    (i32.store (i32.const 1028) (call $count))
    (i32.store (i32.const 1032) (call $receipt (i32.const 0) (i32.const 3000) (i32.const 100)))
    (i64.store (i32.const 1040) (i64.load (i32.const 2060)))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 24))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 1024) (local.get 0) (local.get 1)))
  (func (export "malloc") (param i32) (result i32) (i32.const 8192)))`

let dir: { path: string, remove: () => Promise<void> }
beforeEach(async () => {
  dir = await tempDir()
  await writeFile(join(dir.path, 'payer.wasm'), await wat(PAYER))
  await writeFile(join(dir.path, 'payer.manifest.json'), '{"capabilities": {"wallet": {"version": 1}, "x402": {"version": 1, "options": {"allowed_recipients": ["shop"]}}}}')
})
afterEach(async () => { await dir.remove() })

describe('simulate and wallet_pay (SPEC §15)', () => {
  it('pays from the simulated budget; every tick (ids 5, 6, 9) replays; deterministic runs repeat', async () => {
    const run = async (): Promise<Awaited<ReturnType<typeof simulate>>> =>
      simulate({ wasmPath: join(dir.path, 'payer.wasm'), ticks: 3, budget: 1_000_000n, verify: true, deterministicSeed: 7n, agentLogger: silentLogger })
    const result = await run()
    expect(result.errors).toEqual([])
    expect(result.replayVerified).toBe(3)
    // 3 payments of 1000 plus 3 ticks of 1 ms at 1000 µ¢/s.
    expect(result.budgetConsumed).toBe(3003n)
    expect(await run()).toEqual(result)
  }, 60_000)
})
