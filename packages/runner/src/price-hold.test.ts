// SPEC §16 on a NodeRuntime (a real worker, FAST timing): `holdForPrice` holds the tick loop (no ticks, budget
// constant, the lease still renewed, the reason in status, ACTIVE_OWNER) until it is lifted; a tick that calls
// `request_move` is reported once (`onMoveRequest`) and the next ticks see −2 until `moveSettled()`.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LeaseConfig } from '@igor/lease'
import { tempDir, waitFor, wat } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from './node-runtime.js'
import { observeRuntime } from './observer.js'

// A lease renewed every ~100 ms: a hold that stopped renewals would show at once.
const LEASE: LeaseConfig = { durationMs: 200, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 100 }
/** State: u32 ticks, i32 the last request_move answer. Every tick asks with max 700. */
const MOVER = `(module
  (import "igor" "request_move" (func $move (param i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i32.store (i32.const 1024) (i32.add (i32.load (i32.const 1024)) (i32.const 1)))
    (i32.store (i32.const 1028) (call $move (i64.const 700)))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 1024) (local.get 0) (local.get 1)))
  (func (export "malloc") (param i32) (result i32) (i32.const 8192)))`
const MANIFEST = '{"capabilities": {"mobility": {"version": 1}}, "migration_policy": {"enabled": true, "max_price_per_second": 500}}'

let dir: { path: string, remove: () => Promise<void> }
let rt: NodeRuntime | null = null
let off: (() => void) | null = null
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => {
  off?.()
  await rt?.shutdown()
  rt = null
  await dir.remove()
})

describe('price hold and request_move on a NodeRuntime (SPEC §16)', () => {
  it('holds without ticking or charging while the lease is renewed; a request is reported once and answered -2 until settled', async () => {
    const wasmPath = join(dir.path, 'mover.wasm')
    await writeFile(wasmPath, await wat(MOVER))
    await writeFile(join(dir.path, 'mover.manifest.json'), MANIFEST)
    const requests: Array<[string, bigint]> = []
    off = observeRuntime({ onMoveRequest: (agentId, max) => { requests.push([agentId, max]) } })
    rt = await NodeRuntime.open({ dataDir: join(dir.path, 'node'), lease: LEASE, pricePerSecond: 1_000_000n, timing: FAST })
    await rt.startAgent({ wasmPath, budget: 1_000_000_000n })
    expect(rt.agentIds()).toEqual(['mover'])
    const host = rt.host('mover')!
    const row = async (): Promise<{ tickNumber: bigint, budget: bigint, halted: string | null, state: string, leaseExpiry: bigint }> => (await rt!.status()).find((s) => s.agentId === 'mover')!
    await waitFor('ticks', async () => (await row()).tickNumber >= 3n)
    // One request, reported once; the next ticks are answered -2 (they report nothing).
    expect(requests).toEqual([['mover', 700n]])
    expect(host.movePending).toBe(true)
    host.moveSettled()
    await waitFor('a second request after moveSettled', () => requests.length === 2)

    host.holdForPrice('waiting for a node within max price')
    expect(host.priceHold).toBe('waiting for a node within max price')
    expect(host.ticking).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 200)) // a tick dispatched before the hold has finished
    const held = await row()
    expect(held).toMatchObject({ halted: 'waiting for a node within max price', state: 'ACTIVE_OWNER' })
    await waitFor('renewed while held', async () => (await row()).leaseExpiry > held.leaseExpiry + 200_000_000n)
    expect(await row()).toMatchObject({ tickNumber: held.tickNumber, budget: held.budget })
    host.holdForPrice(null)
    await waitFor('ticking again', async () => (await row()).tickNumber > held.tickNumber + 2n)
    expect((await row()).halted).toBeNull()
    expect((await row()).budget).toBeLessThan(held.budget)
  }, 60_000)
})
