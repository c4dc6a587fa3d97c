// SPEC §12 in the runner: identity per agent, signed chained checkpoints, the
// history archive, and the reference's flaws fixed (each test names one).
import { readFile, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { checkpointContentHash, decodeCheckpoint, parseHistorySegment } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { readHistoryDir, renderLineageReport, verifyHistoryDirs } from '@igor/inspector'
import { Lease, type LeaseConfig, ManualClock } from '@igor/lease'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AgentHost } from '../agent-host.js'
import type { AgentModule } from '../agent-host.js'
import { NodeRuntime } from '../node-runtime.js'
import type { AgentSandbox } from '@igor/sandbox'
import { CheckpointStore } from '../store/index.js'
import { recordingLogger, refusal, tempDir, waitFor } from '@igor/test-kit'
import { AgentLineage } from './agent-lineage.js'
import { HistoryArchive } from './history.js'
import { identityPath, openLineage } from './open.js'

const LEASE: LeaseConfig = { durationMs: 1_000, renewalWindow: 0.5, gracePeriodMs: 100 }
const SLOW = { tickIntervalMs: 1_000_000, busyIntervalMs: 1_000_000, checkpointIntervalMs: 1_000_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 100 }

let dir: { path: string, remove: () => Promise<void> }
const runtimes: NodeRuntime[] = []
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.shutdown()
  await dir.remove()
})

async function runtime(dataDir = dir.path, lease: LeaseConfig | null = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir, lease, pricePerSecond: 1000n, timing: FAST })
  runtimes.push(rt)
  return rt
}

async function stop(rt: NodeRuntime): Promise<void> {
  runtimes.splice(runtimes.indexOf(rt), 1)
  await rt.shutdown()
}

const historyOf = (dataDir: string, agentId: string): string => join(dataDir, 'checkpoints', 'history', agentId)

async function expectValid(dirs: string[]): Promise<void> {
  const result = await verifyHistoryDirs(dirs)
  if (!result.valid) throw new Error(renderLineageReport(result))
  expect(result.valid).toBe(true)
}

function countingSandbox() {
  let state = 0
  return {
    alive: true,
    tick() { state++; return Promise.resolve({ more: false, elapsedNs: 1_000n }) },
    checkpoint() { return Promise.resolve(Uint8Array.of(state)) },
    takeUncharged() { return 0n },
    terminate() { return Promise.resolve() }
  }
}

describe('AgentHost with a lineage (ManualClock)', () => {
  it('many same-tick renewals each take the previous one\'s place: the history verifies (reference flaw: same-tick break)', async () => {
    const clock = new ManualClock()
    const store = await CheckpointStore.open(dir.path)
    const lineage = await openLineage(store.dir, 'a', null, recordingLogger())
    const module = { prepared: { wasmHash: new Uint8Array(32).fill(1) }, wasm: new Uint8Array(0), manifest: { raw: new Uint8Array(0) } } as unknown as AgentModule
    const host = new AgentHost({
      agentId: 'a', module, sandbox: countingSandbox() as unknown as AgentSandbox, lease: Lease.bootstrap(LEASE, clock),
      // A checkpoint after every tick, then a renewal checkpoint at that same tick on the next pass.
      budget: 1_000_000_000n, pricePerSecond: 1n, tickNumber: 0n, store, logger: recordingLogger(), timing: { ...SLOW, checkpointIntervalMs: 0 },
      nowNs: () => clock.nowNs(), lineage
    })
    let saves = 0
    const save = store.save.bind(store)
    store.save = async (agentId, bytes) => { saves++; await save(agentId, bytes) }
    await host.persistStart()
    const seen = new Set<string>()
    for (let i = 0; i < 12; i++) {
      // Every pass renews (the clock jumps into the renewal window) and writes at the same tick first.
      clock.advanceMs(600)
      expect(await host.tickOnce()).toBe(true)
      const bytes = await readFile(store.checkpointPath('a'))
      seen.add(decodeCheckpoint(bytes).epoch.toString())
    }
    await host.stop()
    expect(seen.size).toBeGreaterThan(5)
    const files = await readHistoryDir(historyOf(dir.path, 'a'))
    // One checkpoint per tick as read (a later record of a tick supersedes the earlier), whatever the number written at it.
    expect(files).toHaveLength(13) // ticks 0…12
    expect(saves).toBeGreaterThanOrEqual(2 * files.length - 1)
    await expectValid([historyOf(dir.path, 'a')])
    // The checkpoint file and the newest history file are the same bytes.
    const last = (await readFile(store.checkpointPath('a')))
    const tick = decodeCheckpoint(last).tickNumber
    expect(Buffer.compare(files.find((f) => f.name === `${tick.toString().padStart(10, '0')}.ckpt`)?.bytes ?? new Uint8Array(), last)).toBe(0)
  })

  it('the chain head moves only after the save succeeded (reference flaw: in-memory chain ran ahead)', async () => {
    const store = await CheckpointStore.open(dir.path)
    const id = AgentIdentity.generate()
    const lineage = new AgentLineage(id, null, new HistoryArchive(store.dir, 'b'))
    const input = (tick: bigint) => ({ budget: 1n, pricePerSecond: 1n, tickNumber: tick, wasmHash: new Uint8Array(32), epoch: Epoch.ZERO, leaseExpiry: 0n, state: Uint8Array.of(Number(tick)) })
    const first = lineage.seal(input(1n))
    await lineage.persist(store, 'b', first)
    const save = store.save.bind(store)
    store.save = () => Promise.reject(new Error('disk full'))
    await expect(lineage.persist(store, 'b', lineage.seal(input(2n)))).rejects.toThrow('disk full')
    expect(lineage.head?.tick).toBe(1n)
    store.save = save
    const third = lineage.seal(input(3n))
    expect(Buffer.from(decodeCheckpoint(third).lineage?.prevHash ?? []).equals(Buffer.from(checkpointContentHash(first)))).toBe(true)
    await lineage.persist(store, 'b', third)
    await expectValid([historyOf(dir.path, 'b')])
  })
})

describe('NodeRuntime identity and history', () => {
  it('creates a 0600 identity on first start, signs every checkpoint with it, and keeps it across restarts', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    const path = identityPath(join(dir.path, 'checkpoints'), 'counter')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const did = AgentIdentity.fromSeed((await readFile(path)).subarray(4, 36)).did
    await waitFor('ticks', async () => ((await rt.status())[0]?.tickNumber ?? 0n) >= 3n)
    await stop(rt)
    for (let restart = 0; restart < 3; restart++) {
      const again = await runtime()
      await again.startAgent({ wasmPath: agentPath('counter'), budget: 1n })
      await waitFor('more ticks', async () => ((await again.status())[0]?.tickNumber ?? 0n) >= BigInt(5 + restart * 2))
      await stop(again)
    }
    expect(AgentIdentity.fromSeed((await readFile(path)).subarray(4, 36)).did).toBe(did)
    const checkpoint = decodeCheckpoint(await readFile(join(dir.path, 'checkpoints', 'counter.checkpoint')))
    expect(checkpoint.version).toBe(4)
    const result = await verifyHistoryDirs([historyOf(dir.path, 'counter')])
    expect(result.valid).toBe(true)
    expect(result.agentDid).toBe(did)
  })

  it('refuses a signed agent whose identity is missing, corrupt or foreign, and never replaces the key (reference flaw: silent new key)', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await stop(rt)
    const path = identityPath(join(dir.path, 'checkpoints'), 'counter')
    const original = await readFile(path)
    const checkpointBefore = await readFile(join(dir.path, 'checkpoints', 'counter.checkpoint'))

    await unlink(path)
    const missing = await refusal((await runtime()).startAgent({ wasmPath: agentPath('counter'), budget: 1n }))
    expect(missing.code).toBe('IDENTITY_MISSING')
    expect(missing.message).toContain('is missing')
    await expect(stat(path)).rejects.toThrow() // no key was made up

    await writeFile(path, original.subarray(0, 40))
    expect((await refusal((await runtime()).startAgent({ wasmPath: agentPath('counter'), budget: 1n }))).code).toBe('IDENTITY_INVALID')

    await writeFile(path, AgentIdentity.generate().toBytes())
    expect((await refusal((await runtime()).startAgent({ wasmPath: agentPath('counter'), budget: 1n }))).code).toBe('IDENTITY_MISMATCH')
    expect(Buffer.compare(await readFile(join(dir.path, 'checkpoints', 'counter.checkpoint')), checkpointBefore)).toBe(0)

    await writeFile(path, original, { mode: 0o644 })
    await (await runtime()).startAgent({ wasmPath: agentPath('counter'), budget: 1n })
    expect((await stat(path)).mode & 0o777).toBe(0o600) // tightened on load
  })

  it('refuses a stored checkpoint whose signature does not verify, leaving it untouched', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await stop(rt)
    const file = join(dir.path, 'checkpoints', 'counter.checkpoint')
    const bytes = await readFile(file)
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff
    await writeFile(file, bytes)
    expect((await refusal((await runtime()).startAgent({ wasmPath: agentPath('counter'), budget: 1n }))).code).toBe('SIGNATURE_INVALID')
    expect(Buffer.compare(await readFile(file), bytes)).toBe(0)
  })

  it('repairs the history at start when a kill landed between the checkpoint write and the history write', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await waitFor('ticks', async () => ((await rt.status())[0]?.tickNumber ?? 0n) >= 4n)
    await stop(rt)
    const history = historyOf(dir.path, 'counter')
    const segments = (await readdir(history)).filter((n) => n.endsWith('.hist')).sort()
    // As if killed right after the checkpoint rename: the newest history record is missing.
    const newest = join(history, segments[segments.length - 1] as string)
    const records = parseHistorySegment(new Uint8Array(await readFile(newest))).records
    await truncate(newest, records[records.length - 1]!.offset)
    const again = await runtime()
    await again.startAgent({ wasmPath: agentPath('counter'), budget: 1n })
    await waitFor('more ticks', async () => ((await again.status())[0]?.tickNumber ?? 0n) >= 6n)
    await stop(again)
    await expectValid([history])
  })

  it('hands the identity over in a migration and the two nodes\' histories verify as one chain; a foreign identity is refused', async () => {
    const b = await tempDir('igor-runner-b-')
    try {
      const rtA = await runtime()
      await rtA.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
      await waitFor('ticks', async () => ((await rtA.status())[0]?.tickNumber ?? 0n) >= 3n)
      const snapshot = await rtA.beginHandoff('counter', 'peer-b')
      await snapshot.persisted
      expect(snapshot.identity?.length).toBe(68)
      const rtB = await runtime(b.path)
      const incoming = {
        agentId: 'counter', wasm: snapshot.module.wasm, wasmHash: snapshot.module.prepared.wasmHash, checkpoint: snapshot.checkpoint,
        manifestData: new Uint8Array(0), sourceEpoch: snapshot.epoch, sourceNodeId: 'peer-a'
      }
      const foreign = await refusal(rtB.admitAgent({ ...incoming, identity: AgentIdentity.generate().toBytes() }))
      expect(foreign.code).toBe('IDENTITY_MISMATCH')
      expect(await readdir(join(b.path, 'checkpoints')).then((names) => names.filter((n) => !n.startsWith('.')))).not.toContain('counter.identity')
      expect(await readdir(historyOf(b.path, 'counter')).catch(() => [])).toEqual([])

      await rtB.admitAgent({ ...incoming, identity: snapshot.identity as Uint8Array })
      await rtA.completeHandoff('counter', 'peer-b')
      await expect(stat(identityPath(join(dir.path, 'checkpoints'), 'counter'))).rejects.toThrow() // deleted only now, RETIRED
      expect(Buffer.compare(await readFile(identityPath(join(b.path, 'checkpoints'), 'counter')), Buffer.from(snapshot.identity ?? []))).toBe(0)
      rtB.startAdmitted('counter')
      await waitFor('ticks on B', async () => ((await rtB.status()).find((s) => s.agentId === 'counter')?.tickNumber ?? 0n) >= snapshot.tickNumber + 2n)
      await stop(rtB)
      await expectValid([historyOf(dir.path, 'counter'), historyOf(b.path, 'counter')])
    } finally {
      await b.remove()
    }
  })

  it('a refused hand-off reverts at (M,G+1) at the same tick and the chain stays whole; a failed one keeps the identity', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await waitFor('ticks', async () => ((await rt.status())[0]?.tickNumber ?? 0n) >= 2n)
    const snapshot = await rt.beginHandoff('counter', 'peer-b')
    await snapshot.persisted
    const reverted = await rt.revertHandoff('counter', 'target refused')
    expect(reverted.leaseGeneration).toBe(snapshot.epoch.leaseGeneration + 1n)
    await waitFor('ticks after the revert', async () => ((await rt.status())[0]?.tickNumber ?? 0n) >= snapshot.tickNumber + 2n)
    const again = await rt.beginHandoff('counter', 'peer-b')
    await again.persisted
    await rt.failHandoff('counter', 'no reply')
    expect(await stat(identityPath(join(dir.path, 'checkpoints'), 'counter')).then(() => true)).toBe(true) // not RETIRED: the key stays
    await stop(rt)
    await expectValid([historyOf(dir.path, 'counter')])
  })

  it('an arrival without an identity (a v0x03 sender) gets a new identity and a new chain', async () => {
    const b = await tempDir('igor-runner-b-')
    try {
      const rtA = await runtime()
      await rtA.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
      const snapshot = await rtA.beginHandoff('counter', 'peer-b')
      await snapshot.persisted
      const rtB = await runtime(b.path)
      await rtB.admitAgent({
        agentId: 'counter', wasm: snapshot.module.wasm, wasmHash: snapshot.module.prepared.wasmHash, checkpoint: snapshot.checkpoint,
        manifestData: new Uint8Array(0), sourceEpoch: snapshot.epoch, sourceNodeId: 'peer-a'
      })
      const stored = decodeCheckpoint(await readFile(join(b.path, 'checkpoints', 'counter.checkpoint')))
      expect([...(stored.lineage?.prevHash ?? [])]).toEqual(new Array(32).fill(0))
      const idB = AgentIdentity.fromSeed((await readFile(identityPath(join(b.path, 'checkpoints'), 'counter'))).subarray(4, 36))
      expect(idB.hasPublicKey(stored.lineage?.agentPubKey ?? new Uint8Array())).toBe(true)
      expect(snapshot.identity !== undefined && idB.hasPublicKey(snapshot.identity.subarray(36, 68))).toBe(false)
    } finally {
      await b.remove()
    }
  })
})

describe('importCheckpoint (igord resume)', () => {
  it('refuses a hash mismatch, a bad signature and a missing or foreign identity without touching the stored checkpoint', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await waitFor('ticks', async () => ((await rt.status())[0]?.tickNumber ?? 0n) >= 2n)
    await stop(rt)
    const ckptPath = join(dir.path, 'checkpoints', 'counter.checkpoint')
    const copy = await readFile(ckptPath)
    const wasm = await readFile(agentPath('counter'))
    const stored = Buffer.from(copy)

    const other = await tempDir('igor-runner-c-')
    try {
      const rtC = await runtime(other.path)
      const base = { agentId: 'counter', checkpoint: copy, checkpointPath: 'copy.ckpt', wasm }
      expect((await refusal(rtC.importCheckpoint(base))).code).toBe('IDENTITY_MISSING')
      expect((await refusal(rtC.importCheckpoint({ ...base, wasm: await readFile(agentPath('survivor')) }))).code).toBe('HASH_MISMATCH')
      expect((await refusal(rtC.importCheckpoint({ ...base, identity: AgentIdentity.generate().toBytes() }))).code).toBe('IDENTITY_MISMATCH')
      const tampered = Buffer.from(copy)
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
      const identity = await readFile(identityPath(join(dir.path, 'checkpoints'), 'counter'))
      expect((await refusal(rtC.importCheckpoint({ ...base, checkpoint: tampered, identity }))).code).toBe('SIGNATURE_INVALID')
      await expect(stat(join(other.path, 'checkpoints', 'counter.checkpoint'))).rejects.toThrow()

      await rtC.store.writeAuthority('counter', { state: 'RETIRED', epoch: decodeCheckpoint(copy).epoch, updatedAtNs: 1n, peer: 'elsewhere' })
      expect((await refusal(rtC.importCheckpoint({ ...base, identity }))).code).toBe('AGENT_RETIRED')
      await rtC.store.deleteAuthority('counter')
      await expect(stat(join(other.path, 'checkpoints', 'counter.checkpoint'))).rejects.toThrow()

      await rtC.importCheckpoint({ ...base, identity })
      await rtC.startAgent({ wasmPath: agentPath('counter'), budget: 1n })
      await waitFor('ticks on C', async () => ((await rtC.status())[0]?.tickNumber ?? 0n) >= decodeCheckpoint(copy).tickNumber + 2n)
      await stop(rtC)
      await expectValid([historyOf(dir.path, 'counter'), historyOf(other.path, 'counter')])
    } finally {
      await other.remove()
    }
    expect(Buffer.compare(await readFile(ckptPath), stored)).toBe(0)
  })
})
