import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { Epoch } from '@igor/epoch'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from './node-runtime.js'
import { EgressPolicy } from '@igor/sandbox'
import { agentWat, recordingLogger, refusal, tempDir, waitFor, wat } from '@igor/test-kit'
import type { NodeRuntimeOptions } from './node-runtime.js'
import { parseReplaySettings } from '@igor/replay'

const LEASE = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 200 }

let dir: { path: string, remove: () => Promise<void> }
const open: NodeRuntime[] = []

async function runtime(sub: string, options: Partial<NodeRuntimeOptions> = {}): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir: join(dir.path, sub), lease: LEASE, pricePerSecond: 1000n, timing: FAST, ...options })
  open.push(rt)
  return rt
}

beforeEach(async () => { dir = await tempDir() })
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.shutdown()
  await dir.remove()
})

/** State: 8 bytes at 1024. Each tick reads the clock and stores a counter kept in a global the checkpoint does not save. */
async function forgetful(): Promise<string> {
  const path = join(dir.path, 'forgetful.wasm')
  await writeFile(path, await wat(agentWat({
    imports: '(import "igor" "clock_now" (func $clock_now (result i64)))',
    omit: ['agent_tick', 'agent_checkpoint', 'agent_checkpoint_ptr', 'agent_resume'],
    extra: `(global $hidden (mut i64) (i64.const 0))
  (func (export "agent_tick") (result i32)
    (global.set $hidden (i64.add (global.get $hidden) (i64.const 1)))
    (drop (call $clock_now))
    (i64.store (i32.const 1024) (global.get $hidden))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))`
  })))
  await writeFile(join(dir.path, 'forgetful.manifest.json'), JSON.stringify({ capabilities: { clock: { version: 1 } } }))
  return path
}

describe('self-verification on the running node (SPEC §12)', () => {
  it('pause: a non-deterministic agent is halted with "replay divergence at tick <n>" and a final checkpoint', async () => {
    const logger = recordingLogger()
    const rt = await runtime('A', { logger, replay: parseReplaySettings({ verifyInterval: '1', replayOnDivergence: 'pause' }) })
    await rt.startAgent({ wasmPath: await forgetful(), budget: 1_000_000n })
    const halted = await waitFor('a pause', async () => (await rt.status()).find((s) => s.halted !== null))
    expect(halted.halted).toMatch(/^replay divergence at tick \d+$/)
    const line = logger.lines.find((l) => /^replay divergence at tick \d+, first diff byte 0$/.test(l.msg))
    expect(line?.fields).toMatchObject({ agentId: 'forgetful', policy: 'pause' })
    // The halt wrote a final checkpoint, like any halt with a live instance.
    expect((await rt.store.load('forgetful'))!.tickNumber).toBe(halted.tickNumber)
  }, 60_000)

  it('log: the divergence is logged and the agent keeps ticking; intensify: every observing tick is verified from then on', async () => {
    const logger = recordingLogger()
    const rt = await runtime('A', { logger, replay: parseReplaySettings({ verifyInterval: '3', replayOnDivergence: 'intensify' }) })
    await rt.startAgent({ wasmPath: await forgetful(), budget: 1_000_000n })
    const host = rt.host('forgetful')!
    await waitFor('several failures', () => host.verification!.failed >= 3)
    await waitFor('more ticks', async () => (await rt.status())[0]!.tickNumber >= 12n)
    expect(host.ticking).toBe(true)
    expect(logger.lines.some((l) => l.msg === 'replay divergence: verifying every observing tick from now on')).toBe(true)
  }, 60_000)

  it('a deterministic agent verifies, with nothing failed', async () => {
    const rt = await runtime('A', { replay: parseReplaySettings({ verifyInterval: '1', replayOnDivergence: 'pause' }) })
    await rt.startAgent({ wasmPath: agentPath('survivor'), budget: 1_000_000n })
    const host = rt.host('survivor')!
    await waitFor('verified replays', () => host.verification!.verified >= 5)
    expect(host.verification!.failed).toBe(0)
    expect(host.ticking).toBe(true)
  }, 60_000)

  it('off: nothing is replayed', async () => {
    const rt = await runtime('A', { replay: parseReplaySettings({ replayMode: 'off' }) })
    await rt.startAgent({ wasmPath: await forgetful(), budget: 1_000_000n })
    await waitFor('ticks', async () => (await rt.status())[0]!.tickNumber >= 5n)
    expect(rt.host('forgetful')!.verification).toBeNull()
  }, 60_000)
})

describe('ReplayData in a hand-off (SPEC §12)', () => {
  async function handOff(wasmPath: string, target: NodeRuntime) {
    const source = await runtime('A', { replay: parseReplaySettings({ replayMode: 'off' }) })
    const status = await source.startAgent({ wasmPath, budget: 1_000_000n })
    await waitFor('3 ticks', async () => (await source.status())[0]!.tickNumber >= 3n)
    const snapshot = await source.beginHandoff(status.agentId, '/ip4/127.0.0.1/tcp/1/p2p/x')
    await snapshot.persisted
    const { decodeCheckpoint } = await import('@igor/checkpoint-codec')
    const checkpoint = decodeCheckpoint(snapshot.checkpoint)
    const admit = target.admitAgent({
      agentId: status.agentId,
      wasm: snapshot.module.wasm,
      wasmHash: snapshot.module.prepared.wasmHash,
      checkpoint: snapshot.checkpoint,
      manifestData: snapshot.module.manifest.raw,
      sourceEpoch: snapshot.epoch,
      sourceNodeId: 'source',
      replayData: snapshot.replayData
    })
    return { source, snapshot, checkpoint, admit }
  }

  it('the source sends the last tick; a deterministic agent passes the target\'s replay', async () => {
    const logger = recordingLogger()
    const target = await runtime('B', { logger })
    const { snapshot, checkpoint, admit } = await handOff(agentPath('survivor'), target)
    expect(snapshot.replayData).not.toBeNull()
    expect(snapshot.replayData!.tickNumber).toBe(checkpoint.tickNumber)
    expect(snapshot.replayData!.entries.map((e) => e.hostcallId)).toEqual([1, 2, 3])
    const admitted = await admit
    expect(admitted.epoch.toString()).toBe(new Epoch(1n, 0n).toString())
    expect(logger.lines.some((l) => l.msg === `replay verified at tick ${checkpoint.tickNumber}`)).toBe(true)
  }, 60_000)

  it('the target refuses a package whose ReplayData does not reproduce its checkpoint, leaving nothing behind', async () => {
    const target = await runtime('B')
    const { checkpoint, admit, source } = await handOff(await forgetful(), target)
    const error = await refusal(admit)
    expect(error.code).toBe('REPLAY_FAILED')
    expect(error.message).toBe(`replay divergence at tick ${checkpoint.tickNumber}, first diff byte 0`)
    expect(await target.store.load('forgetful')).toBeNull()
    expect(await target.store.readAuthority('forgetful')).toBeNull()
    // A definite rejection: the source takes the agent back at (M,G+1).
    const epoch = await source.revertHandoff('forgetful', error.message)
    expect(epoch.toString()).toBe(checkpoint.epoch.renewed().toString())
  }, 60_000)

  it('a target in mode off (or periodic) accepts without replaying', async () => {
    const target = await runtime('B', { replay: parseReplaySettings({ replayMode: 'periodic' }) })
    const { admit } = await handOff(await forgetful(), target)
    expect((await admit).agentId).toBe('forgetful')
  }, 60_000)
})

describe('wasip1 agents (ours: WASI clock_time_get id 10, random_get id 11)', () => {
  /** State: 16 bytes at 1024: the realtime clock and 8 random bytes, both read through WASI in every tick. */
  async function wasiAgent(): Promise<string> {
    const path = join(dir.path, 'wasi.wasm')
    await writeFile(path, await wat(agentWat({
      imports: `(import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))`,
      omit: ['agent_tick', 'agent_checkpoint', 'agent_checkpoint_ptr', 'agent_resume'],
      extra: `(func (export "agent_tick") (result i32)
    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 1024)))
    (drop (call $random (i32.const 1032) (i32.const 8)))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 16))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 1024) (local.get 0) (i32.const 16)))`
    })))
    return path
  }

  it('its ticks are recorded and verify; it travels without ReplayData (ids above 9)', async () => {
    const logger = recordingLogger()
    const source = await runtime('A', { logger, replay: parseReplaySettings({ verifyInterval: '1', replayOnDivergence: 'pause' }) })
    await source.startAgent({ wasmPath: await wasiAgent(), budget: 1_000_000n })
    const host = source.host('wasi')!
    await waitFor('verified replays', () => host.verification!.verified >= 3)
    expect(host.verification!.failed).toBe(0)
    const snapshot = await source.beginHandoff('wasi', '/ip4/127.0.0.1/tcp/1/p2p/x')
    await snapshot.persisted
    expect(snapshot.replayData).toBeNull()
    expect(logger.lines.some((l) => l.msg === 'no ReplayData in the package: the last tick used hostcall id 11, which the reference cannot replay')).toBe(true)
  }, 60_000)
})

describe('http_request agents (SPEC §13 observations)', () => {
  it('responses (id 8) and failed calls (ours, id 12) replay, so self-verification passes', async () => {
    const { createServer } = await import('node:http')
    const server = createServer((_req, res) => { res.end('hello-world-1234') })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const port = (server.address() as { port: number }).port
      const good = `http://127.0.0.1:${port}/x`
      const blocked = 'http://blocked.example/x'
      const path = join(dir.path, 'fetcher.wasm')
      // Each tick: one allowed request (200 + body) and one to a host outside the allow-list (-3);
      // the state folds both results and the body's first 8 bytes into a u64.
      await writeFile(path, await wat(agentWat({
        imports: '(import "igor" "http_request" (func $http (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))',
        omit: ['agent_tick', 'agent_checkpoint', 'agent_checkpoint_ptr', 'agent_resume'],
        extra: `(data (i32.const 2048) "${good}")
  (data (i32.const 3072) "${blocked}")
  (func (export "agent_tick") (result i32)
    (local $a i32) (local $b i32)
    (local.set $a (call $http (i32.const 0) (i32.const 0) (i32.const 2048) (i32.const ${good.length}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4096) (i32.const 1024)))
    (local.set $b (call $http (i32.const 0) (i32.const 0) (i32.const 3072) (i32.const ${blocked.length}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8192) (i32.const 1024)))
    (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024))
      (i64.add (i64.extend_i32_s (i32.add (local.get $a) (local.get $b))) (i64.load (i32.const 4100)))))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))`
      })))
      await writeFile(join(dir.path, 'fetcher.manifest.json'), JSON.stringify({ capabilities: { http: { version: 1, options: { allowed_hosts: ['127.0.0.1'], timeout_ms: 5000 } } } }))
      // SPEC §13: loopback is denied by the node's egress policy unless allowed.
      const egress = EgressPolicy.parse({ allow: ['127.0.0.1'] })
      const rt = await runtime('A', { egress, replay: parseReplaySettings({ verifyInterval: '1', replayOnDivergence: 'pause' }) })
      await rt.startAgent({ wasmPath: path, budget: 1_000_000n })
      const host = rt.host('fetcher')!
      await waitFor('verified replays', () => host.verification!.verified >= 3, 30_000)
      expect(host.verification!.failed).toBe(0)
      expect(host.ticking).toBe(true)
    } finally {
      server.close()
    }
  }, 60_000)
})
