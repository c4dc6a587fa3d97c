import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { agentPath } from '@igor/agents'
import { encodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AuthorityState, type LeaseConfig, ManualClock } from '@igor/lease'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from './node-runtime.js'
import type { NodeRuntimeOptions } from './node-runtime.js'
import { counterValue, recordingLogger, tempDir, waitFor } from '@igor/test-kit'

const LEASE: LeaseConfig = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 200 }

let dir: { path: string, remove: () => Promise<void> }
const open: NodeRuntime[] = []

async function runtime(options: Partial<NodeRuntimeOptions> = {}): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir: dir.path, lease: LEASE, pricePerSecond: 1000n, timing: FAST, ...options })
  open.push(rt)
  return rt
}

async function stopAll(): Promise<void> {
  for (const rt of open.splice(0)) await rt.shutdown()
}

async function row(rt: NodeRuntime, agentId: string) {
  const found = (await rt.status()).find((s) => s.agentId === agentId)
  if (found === undefined) throw new Error(`no status row for ${agentId}`)
  return found
}

async function onDisk(rt: NodeRuntime, agentId: string) {
  const checkpoint = await rt.store.load(agentId)
  if (checkpoint === null) throw new Error(`no checkpoint for ${agentId}`)
  return checkpoint
}

beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await stopAll(); await dir.remove() })

describe('NodeRuntime: run, stop, resume', () => {
  it('bootstraps at (0,0), persists before ticking, and resumes at (M,G+1) with the tick count continuing', async () => {
    const rt = await runtime()
    const started = await rt.startAgent({ wasmPath: agentPath('survivor'), budget: 1_000_000n })
    expect(started.epoch.toString()).toBe('(0,0)')
    expect((await onDisk(rt, 'survivor')).epoch.toString()).toBe('(0,0)')
    await waitFor('5 ticks', async () => (await row(rt, 'survivor')).tickNumber >= 5n)
    await stopAll()
    const final = await onDisk(rt, 'survivor')
    expect(final.tickNumber).toBeGreaterThanOrEqual(5n)

    const again = await runtime()
    const resumed = await again.startAgent({ wasmPath: agentPath('survivor'), budget: 1n })
    expect(resumed.epoch.toString()).toBe('(0,1)')
    expect(resumed.tickNumber).toBe(final.tickNumber)
    expect(resumed.budget).toBe(final.budget) // --budget is ignored on resume
    expect((await onDisk(again, 'survivor')).epoch.toString()).toBe('(0,1)')
    await waitFor('ticks continue', async () => (await row(again, 'survivor')).tickNumber > final.tickNumber)
  })

  it('resumes stored agents without --run-agent, from the module copy in the data dir', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await waitFor('a tick', async () => (await row(rt, 'counter')).tickNumber >= 1n)
    await stopAll()
    const again = await runtime()
    expect(await again.resumeStoredAgents()).toEqual([{ agentId: 'counter' }])
    expect((await row(again, 'counter')).epoch.toString()).toBe('(0,1)')
  })

  it('resumes several stored agents in parallel lanes, results in the store\'s order (issue 11)', async () => {
    const rt = await runtime()
    for (const agentId of ['c1', 'c2', 'c3', 'c4']) await rt.startAgent({ wasmPath: agentPath('counter'), agentId, budget: 1_000_000n })
    await waitFor('every agent ticks', async () => (await rt.status()).every((s) => s.tickNumber >= 1n))
    await stopAll()
    const again = await runtime()
    expect(await again.resumeStoredAgents(3)).toEqual([{ agentId: 'c1' }, { agentId: 'c2' }, { agentId: 'c3' }, { agentId: 'c4' }])
    for (const agentId of ['c1', 'c2', 'c3', 'c4']) expect((await row(again, agentId)).epoch.toString()).toBe('(0,1)')
    expect(await again.resumeStoredAgents(3)).toEqual([]) // already running: not started twice
  })

  it('keeps epoch (0,0) with leases disabled', async () => {
    const rt = await runtime({ lease: null })
    const started = await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    expect(started.leaseExpiry).toBe(0n)
    await stopAll()
    const again = await runtime({ lease: null })
    expect((await again.startAgent({ wasmPath: agentPath('counter'), budget: 1n })).epoch.toString()).toBe('(0,0)')
    expect((await onDisk(again, 'counter')).leaseExpiry).toBe(0n)
  })

  it('refuses a binary whose hash differs from the checkpoint, naming both hashes', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), agentId: 'x', budget: 1_000_000n })
    await stopAll()
    const again = await runtime()
    const error = await again.startAgent({ wasmPath: agentPath('survivor'), agentId: 'x', budget: 1n }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'HASH_MISMATCH' })
    expect((error as Error).message).toMatch(/[0-9a-f]{64}.*[0-9a-f]{64}/)
  })

  it('refuses a corrupt checkpoint and leaves it byte-identical', async () => {
    const rt = await runtime()
    const path = rt.store.checkpointPath('counter')
    const garbage = new Uint8Array([0x03, 1, 2, 3, 4, 5])
    await writeFile(path, garbage)
    await expect(rt.startAgent({ wasmPath: agentPath('counter'), budget: 1n })).rejects.toMatchObject({ code: 'CHECKPOINT_CORRUPT' })
    expect(new Uint8Array(await readFile(path))).toEqual(garbage)
  })

  it('never starts a retired agent again', async () => {
    const rt = await runtime()
    await rt.store.writeTombstone('counter', { agentId: 'counter', epoch: new Epoch(4n, 2n), movedTo: '12D3KooWtarget', retiredAtNs: 1n })
    await expect(rt.startAgent({ wasmPath: agentPath('counter'), budget: 1n })).rejects.toMatchObject({ code: 'AGENT_RETIRED' })
    const rows = await rt.status()
    expect(rows).toEqual([expect.objectContaining({ agentId: 'counter', state: 'RETIRED', movedTo: '12D3KooWtarget' })])
  })

  it('comes back as RECOVERY_REQUIRED after a restart in the middle of a hand-off', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await stopAll()
    const record = await rt.store.readAuthority('counter')
    await rt.store.writeAuthority('counter', { ...record!, state: AuthorityState.HANDOFF_PENDING, peer: '/ip4/127.0.0.1/tcp/1/p2p/x' })
    const again = await runtime()
    const status = await again.startAgent({ wasmPath: agentPath('counter'), budget: 1n })
    expect(status.state).toBe('RECOVERY_REQUIRED')
    expect(status.halted).toMatch(/hand-off/)
    const before = status.tickNumber
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect((await row(again, 'counter')).tickNumber).toBe(before)
    const recovered = await again.recover('counter')
    expect(recovered.state).toBe('ACTIVE_OWNER')
    expect(recovered.epoch.supersedes(status.epoch)).toBe(true)
    await waitFor('ticks after recover', async () => (await row(again, 'counter')).tickNumber > before)
  })
})

describe('NodeRuntime: isolation and halts', () => {
  it('halts a looping, a trapping and a memory-hungry agent while the others keep ticking', async () => {
    const logger = recordingLogger()
    const rt = await runtime({ logger })
    for (const name of ['looper', 'trapper', 'hog', 'counter'] as const) {
      await rt.startAgent({ wasmPath: agentPath(name), budget: 1_000_000n })
    }
    await waitFor('three halts', async () => (await rt.status()).filter((s) => s.halted !== null).length === 3, 20_000)
    expect((await row(rt, 'looper')).halted).toMatch(/did not finish within 100 ms/)
    expect((await row(rt, 'trapper')).halted).toMatch(/trapped/)
    expect((await row(rt, 'hog')).halted).toMatch(/tick failed/)
    // The last good checkpoints stay and still decode.
    expect((await onDisk(rt, 'trapper')).tickNumber).toBeLessThanOrEqual(2n)
    expect((await onDisk(rt, 'looper')).tickNumber).toBeLessThanOrEqual(2n)
    const counter = (await row(rt, 'counter')).tickNumber
    await waitFor('counter still ticking', async () => (await row(rt, 'counter')).tickNumber > counter + 3n)
    expect((await row(rt, 'counter')).halted).toBeNull()
  })

  it('a looping neighbour in a shared worker is interrupted in place: the agent beside it is not restarted and ticks on (SPEC §11 sharing a thread)', async () => {
    const logger = recordingLogger()
    const rt = await runtime({ logger, agentsPerWorker: 4 })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await waitFor('counter checkpointed past tick 3', async () => (await onDisk(rt, 'counter')).tickNumber >= 3n)
    await rt.startAgent({ wasmPath: agentPath('looper'), budget: 1_000_000n })
    await waitFor('looper halted', async () => (await row(rt, 'looper')).halted)
    expect((await row(rt, 'looper')).halted).toMatch(/did not finish within 100 ms/)
    expect(logger.lines.find((l) => l.fields.agentId === 'counter' && l.msg.startsWith('agent restarted from its last checkpoint'))).toBeUndefined()
    const after = (await row(rt, 'counter')).tickNumber
    await waitFor('counter ticks on', async () => (await row(rt, 'counter')).tickNumber > after + 3n)
    expect((await row(rt, 'counter')).halted).toBeNull()
    // State and tick number stay one: the restart took both from the same checkpoint.
    await rt.shutdown()
    const final = await onDisk(rt, 'counter')
    expect(counterValue(final.state)).toBe(final.tickNumber)
  })

  it('an agent arriving by migration runs alone until its first checkpoint here, then moves to a shared worker with nothing lost (issue 11)', async () => {
    const logger = recordingLogger()
    const rt = await runtime({ logger, agentsPerWorker: 4 })
    const wasm = new Uint8Array(await readFile(agentPath('counter')))
    const wasmHash = new Uint8Array(createHash('sha256').update(wasm).digest())
    const state = new Uint8Array(8)
    new DataView(state.buffer).setBigUint64(0, 7n, true)
    const epoch = new Epoch(0n, 3n)
    await rt.admitAgent({
      agentId: 'counter', wasm, wasmHash, manifestData: new Uint8Array(0), sourceEpoch: epoch, sourceNodeId: '12D3KooWsource',
      checkpoint: encodeCheckpoint({ budget: 1_000_000n, pricePerSecond: 1000n, tickNumber: 7n, wasmHash, epoch, leaseExpiry: 0n, state })
    })
    rt.startAdmitted('counter') // the target starts ticking once its reply is sent (SPEC §7)
    const moved = await waitFor('moved to a shared worker', () => logger.lines.find((l) => l.msg === 'agent moved from its probation worker to a shared one'))
    const at = BigInt(moved.fields.tickNumber as string)
    expect(at).toBeGreaterThan(7n)
    await waitFor('ticking on from there', async () => (await row(rt, 'counter')).tickNumber > at + 2n)
    expect((await row(rt, 'counter')).halted).toBeNull()
    await rt.shutdown()
    const final = await onDisk(rt, 'counter')
    expect(counterValue(final.state)).toBe(final.tickNumber)
  })

  it('with --agents-per-worker 1 a looping agent never touches another agent', async () => {
    const logger = recordingLogger()
    const rt = await runtime({ logger, agentsPerWorker: 1 })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await rt.startAgent({ wasmPath: agentPath('looper'), budget: 1_000_000n })
    await waitFor('looper halted', async () => (await row(rt, 'looper')).halted)
    const counter = (await row(rt, 'counter')).tickNumber
    await waitFor('counter ticks on', async () => (await row(rt, 'counter')).tickNumber > counter + 3n)
    expect(logger.lines.filter((l) => l.msg.startsWith('agent restarted'))).toEqual([])
  })

  it('halts with a final checkpoint when the budget runs out', async () => {
    const rt = await runtime({ pricePerSecond: 1_000_000_000_000n })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1n })
    await waitFor('budget halt', async () => (await row(rt, 'counter')).halted === 'budget exhausted')
    const checkpoint = await onDisk(rt, 'counter')
    expect(checkpoint.budget).toBe(0n)
    expect(checkpoint.tickNumber).toBe((await row(rt, 'counter')).tickNumber)
  })

  it('refuses a tick at budget 0 from the start', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 0n })
    await waitFor('budget halt', async () => (await row(rt, 'counter')).halted === 'budget exhausted')
    expect((await row(rt, 'counter')).tickNumber).toBe(0n)
  })

  it('gives the agent its balance through wallet_balance and tags agent log lines with the agent id', async () => {
    const logger = recordingLogger()
    const rt = await runtime({ logger })
    await rt.startAgent({ wasmPath: agentPath('spender'), budget: 1_000_000n })
    const line = await waitFor('a balance line', () => logger.lines.find((l) => l.msg.startsWith('balance ')))
    // SPEC §11: start-up and the first checkpoint are charged before the first tick.
    const balance = BigInt(/^balance (\d+)$/.exec(line.msg)?.[1] ?? '-1')
    expect(balance).toBeLessThanOrEqual(1_000_000n)
    expect(balance).toBeGreaterThan(0n)
    expect(line.fields).toMatchObject({ agentId: 'spender', src: 'agent' })
  })
})

describe('NodeRuntime: leases in the tick loop', () => {
  it('writes a renewal to disk before ticking under it', async () => {
    const clock = new ManualClock(1_700_000_000_000_000_000n)
    const rt = await runtime({ clock })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    expect((await onDisk(rt, 'counter')).epoch.toString()).toBe('(0,0)')
    clock.advanceMs(30_000) // exactly at the renewal threshold
    await waitFor('renewal on disk', async () => (await onDisk(rt, 'counter')).epoch.toString() === '(0,1)')
    const checkpoint = await onDisk(rt, 'counter')
    expect(checkpoint.leaseExpiry).toBe(clock.nowNs() + 60_000_000_000n)
  })

  it('stops ticking past expiry + grace, reports RECOVERY_REQUIRED, and resumes only after recover()', async () => {
    const clock = new ManualClock(1_700_000_000_000_000_000n)
    const rt = await runtime({ clock })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await waitFor('a tick', async () => (await row(rt, 'counter')).tickNumber >= 1n)
    clock.advanceMs(70_001) // beyond 60 s + 10 s grace, as after a long SIGSTOP
    const halted = await waitFor('recovery', async () => {
      const r = await row(rt, 'counter')
      return r.state === 'RECOVERY_REQUIRED' ? r : null
    })
    expect(halted.halted).toBe('lease expired beyond grace')
    expect((await rt.store.readAuthority('counter'))?.state).toBe('RECOVERY_REQUIRED')
    const ticks = halted.tickNumber
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect((await row(rt, 'counter')).tickNumber).toBe(ticks)
    expect((await onDisk(rt, 'counter')).tickNumber).toBe(ticks)

    const recovered = await rt.recover('counter')
    expect(recovered.epoch.toString()).toBe('(0,1)')
    expect((await rt.store.readAuthority('counter'))?.state).toBe('ACTIVE_OWNER')
    await waitFor('ticks again', async () => (await row(rt, 'counter')).tickNumber > ticks)
  })

  it('still ticks inside the grace period', async () => {
    const clock = new ManualClock(1_700_000_000_000_000_000n)
    const rt = await runtime({ clock, lease: { durationMs: 60_000, renewalWindow: 0.01, gracePeriodMs: 10_000 } })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    clock.advanceMs(65_000) // expired, inside grace: the next tick renews and goes on
    await waitFor('renewed inside grace', async () => (await row(rt, 'counter')).epoch.toString() === '(0,1)')
    expect((await row(rt, 'counter')).state).toBe('ACTIVE_OWNER')
  })
})
