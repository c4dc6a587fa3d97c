import { createHash } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { type Checkpoint, GENESIS_PREV_HASH, decodeCheckpoint, encodeCheckpoint, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { AgentIdentity, readIdentityFile } from '@igor/identity'
import { Epoch } from '@igor/epoch'
import { AuthorityState, Lease, type LeaseConfig, ManualClock } from '@igor/lease'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AgentHost } from '../agent-host.js'
import type { AgentModule } from '../agent-host.js'
import { NodeRuntime } from '../node-runtime.js'
import type { AgentSandbox } from '@igor/sandbox'
import { CheckpointStore } from '../store/index.js'
import { recordingLogger, refusal, tempDir } from '@igor/test-kit'

// Issue 12 items 1–3: each test here failed before the fix it names.

const LEASE: LeaseConfig = { durationMs: 1_000, renewalWindow: 0.5, gracePeriodMs: 100 }
const TIMING = { tickIntervalMs: 1_000_000, busyIntervalMs: 1_000_000, checkpointIntervalMs: 1_000_000 }

let dir: { path: string, remove: () => Promise<void> }
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await dir.remove() })

/** A sandbox that only counts: the tests are about what reaches agent_tick, not about WASM. */
function countingSandbox() {
  const sandbox = {
    alive: true,
    ticks: 0,
    deadlines: [] as Array<bigint | null>,
    tick(_budget: bigint, deadline: bigint | null = null) {
      sandbox.ticks++
      sandbox.deadlines.push(deadline)
      return Promise.resolve({ more: false, elapsedNs: 1_000n })
    },
    checkpoint() { return Promise.resolve(new Uint8Array([1, 2, 3])) },
    takeUncharged() { return 0n },
    terminate() { sandbox.alive = false; return Promise.resolve() }
  }
  return sandbox
}

async function hostUnderTest(clock: ManualClock) {
  const store = await CheckpointStore.open(dir.path)
  const sandbox = countingSandbox()
  const logger = recordingLogger()
  const module = { prepared: { wasmHash: new Uint8Array(32) }, wasm: new Uint8Array(0), manifest: { raw: new Uint8Array(0) } } as unknown as AgentModule
  const host = new AgentHost({
    agentId: 'a',
    module,
    sandbox: sandbox as unknown as AgentSandbox,
    lease: Lease.bootstrap(LEASE, clock),
    budget: 1_000_000n,
    pricePerSecond: 1000n,
    tickNumber: 0n,
    store,
    logger,
    timing: TIMING,
    nowNs: () => clock.nowNs()
  })
  await host.persistStart()
  return { host, store, sandbox, logger }
}

describe('item 1: no tick after expiry, ever', () => {
  it('a pause during the renewal write (past expiry + grace) lets no tick through', async () => {
    const clock = new ManualClock()
    const { host, store, sandbox, logger } = await hostUnderTest(clock)
    expect(await host.tickOnce()).toBe(true)
    expect(sandbox.ticks).toBe(1)

    clock.advanceMs(600) // inside the renewal window: the next pass renews and writes
    const save = store.save.bind(store)
    store.save = async (agentId, checkpoint) => {
      await save(agentId, checkpoint)
      clock.advanceMs(5_000) // SIGSTOP between the durable renewal and the tick
    }
    expect(await host.tickOnce()).toBe(false)
    expect(sandbox.ticks).toBe(1)
    const status = host.status()
    expect(status.state).toBe('RECOVERY_REQUIRED')
    expect(status.halted).toBe('lease expired beyond grace')
    expect((await store.readAuthority('a'))?.state).toBe('RECOVERY_REQUIRED')
    expect(logger.lines.some((l) => l.level === 'error' && /lease expired beyond grace/.test(l.msg))).toBe(true)
  })

  it('hands the worker the absolute end of the lease (+ grace) on the monotonic clock', async () => {
    const clock = new ManualClock()
    const { host, sandbox } = await hostUnderTest(clock)
    const before = process.hrtime.bigint()
    await host.tickOnce()
    const after = process.hrtime.bigint()
    const deadline = sandbox.deadlines[0]!
    // expiry = now + 1000 ms, grace 100 ms: the deadline is 1.1 s after dispatch.
    expect(deadline).toBeGreaterThanOrEqual(before + 1_100_000_000n)
    expect(deadline).toBeLessThanOrEqual(after + 1_100_000_000n)
  })
})

describe('item 3: every authority change is durable and logged before it is reported', () => {
  it('a migrate that finds the lease expired beyond grace leaves a durable, logged, halted RECOVERY_REQUIRED', async () => {
    const clock = new ManualClock()
    const { host, store, logger } = await hostUnderTest(clock)
    clock.advanceMs(5_000) // paused during `igord migrate`
    await expect(host.beginHandoff('/ip4/127.0.0.1/tcp/1/p2p/peer')).rejects.toMatchObject({ code: 'LEASE_EXPIRED' })
    const status = host.status()
    expect(status.state).toBe('RECOVERY_REQUIRED')
    expect(status.halted).not.toBeNull()
    expect((await store.readAuthority('a'))?.state).toBe('RECOVERY_REQUIRED')
    expect(logger.lines.some((l) => l.level === 'error' && /lease expired beyond grace/.test(l.msg))).toBe(true)
  })

  it('status never shows a state before the authority record holds it', async () => {
    const clock = new ManualClock()
    const { host, store } = await hostUnderTest(clock)
    const seen: string[] = []
    const write = store.writeAuthority.bind(store)
    store.writeAuthority = async (agentId, record) => {
      seen.push(`${host.status().state} while writing ${record.state}`)
      await write(agentId, record)
    }
    await host.beginHandoff('/ip4/127.0.0.1/tcp/1/p2p/peer')
    await host.failHandoff('no reply')
    expect(seen).toEqual(['ACTIVE_OWNER while writing HANDOFF_INITIATED', 'HANDOFF_INITIATED while writing RECOVERY_REQUIRED'])
    expect(host.status().state).toBe('RECOVERY_REQUIRED')
  })
})

describe('item 2: higher epochs supersede stale copies', () => {
  const open: NodeRuntime[] = []
  afterEach(async () => { for (const rt of open.splice(0)) await rt.shutdown() })
  const runtime = async (): Promise<NodeRuntime> => {
    const rt = await NodeRuntime.open({ dataDir: dir.path, lease: { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }, pricePerSecond: 1000n, timing: { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 200 } })
    open.push(rt)
    return rt
  }
  const PEER = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWpeer'

  /** A counter stuck in RECOVERY_REQUIRED after a hand-off with no reply. */
  async function strandedCopy(): Promise<NodeRuntime> {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    const snapshot = await rt.beginHandoff('counter', PEER)
    await snapshot.persisted
    await rt.failHandoff('counter', 'no reply')
    return rt
  }

  /** A package for counter at `epoch`, its checkpoint signed by `signer` (default: the key held here), or unsigned. */
  async function packageAt(epoch: Epoch, rt: NodeRuntime, signer: AgentIdentity | 'unsigned' | 'held' = 'held', base?: Checkpoint) {
    const wasm = new Uint8Array(await readFile(agentPath('counter')))
    const stored = base ?? await rt.store.load('counter') ?? decodeCheckpoint(new Uint8Array(0))
    const key = signer === 'held' ? await readIdentityFile(join(dir.path, 'checkpoints', 'counter.identity')) : signer
    const input = { ...stored, epoch }
    return {
      agentId: 'counter',
      wasm,
      wasmHash: createHash('sha256').update(wasm).digest(),
      checkpoint: key === 'unsigned' ? encodeCheckpoint(input) : encodeSignedCheckpoint(input, GENESIS_PREV_HASH, key),
      manifestData: new Uint8Array(0),
      sourceEpoch: epoch,
      sourceNodeId: '12D3KooWnewer',
      ...(key === 'unsigned' ? {} : { identity: key.toBytes() })
    }
  }

  /** Every file the node holds for counter, to prove a refused arrival left them byte for byte. */
  async function filesOf(): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    const names = (await readdir(join(dir.path, 'checkpoints'))).filter((n) => n.startsWith('counter.')).sort()
    for (const name of names) out[name] = createHash('sha256').update(await readFile(join(dir.path, 'checkpoints', name))).digest('hex')
    return out
  }

  it('a restart never raises a RECOVERY_REQUIRED copy\'s generation, and keeps the hand-off peer on record', async () => {
    const rt = await strandedCopy()
    const before = (await rt.status())[0]!
    expect(before.state).toBe('RECOVERY_REQUIRED')
    for (let i = 0; i < 2; i++) {
      for (const r of open.splice(0)) await r.shutdown()
      const again = await runtime()
      await again.resumeStoredAgents()
      const row = (await again.status())[0]!
      expect(row.state).toBe('RECOVERY_REQUIRED')
      expect(row.epoch.toString()).toBe(before.epoch.toString())
      expect((await again.store.readAuthority('counter'))?.peer).toBe(PEER)
    }
  })

  it('admits a package signed by the held key whose epoch supersedes a local RECOVERY_REQUIRED copy; the copy is retired only after the arrival is written', async () => {
    const rt = await strandedCopy()
    const order: string[] = []
    const tomb = rt.store.writeTombstone.bind(rt.store)
    rt.store.writeTombstone = async (...args) => { order.push('tombstone'); await tomb(...args) }
    const save = rt.store.save.bind(rt.store)
    rt.store.save = async (...args) => { order.push('checkpoint'); await save(...args) }
    const stale = await refusal(rt.admitAgent(await packageAt(new Epoch(0n, 0n), rt)))
    expect(stale.code).toBe('FENCED') // not newer: refused, as before
    const admitted = await rt.admitAgent(await packageAt(new Epoch(3n, 4n), rt))
    expect(admitted.state).toBe('ACTIVE_OWNER')
    expect(admitted.epoch.toString()).toBe('(4,0)')
    // SPEC §7: no tombstone first any more — the arrival's own records replace the copy's in one step.
    expect(order).not.toContain('tombstone')
    expect((await rt.store.readAuthority('counter'))?.state).toBe('ACTIVE_OWNER')
    rt.startAdmitted('counter')
    await expect(rt.recover('counter')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
  })

  // Issue 16 attack 2: each of these deleted the only copy before the fix.
  it('a garbage package at a higher epoch from a stranger is refused and the RECOVERY_REQUIRED copy stays exactly as it was, recoverable', async () => {
    const rt = await strandedCopy()
    const before = await filesOf()
    const garbage = { ...await packageAt(new Epoch(1n, 0n), rt), checkpoint: new TextEncoder().encode('not a checkpoint at all') }
    expect((await refusal(rt.admitAgent(garbage))).code).toBe('CHECKPOINT_CORRUPT')
    // The attack as found: a module that is not WASM, with a consistent unsigned checkpoint (refused at the identity
    // now) — and the same module under the held key, which gets as far as compiling it.
    const notWasm = new TextEncoder().encode('\0asx garbage')
    for (const signer of ['unsigned', 'held'] as const) {
      const pkg = await packageAt(new Epoch(1n, 0n), rt, signer)
      const stored = (await rt.store.load('counter'))!
      const hash = createHash('sha256').update(notWasm).digest()
      const checkpointInput = { ...stored, epoch: new Epoch(1n, 0n), wasmHash: hash }
      const key = signer === 'held' ? await readIdentityFile(join(dir.path, 'checkpoints', 'counter.identity')) : null
      const refused = await refusal(rt.admitAgent({
        ...pkg,
        wasm: notWasm,
        wasmHash: hash,
        checkpoint: key === null ? encodeCheckpoint(checkpointInput) : encodeSignedCheckpoint(checkpointInput, GENESIS_PREV_HASH, key)
      }))
      expect(refused.code).toBe(signer === 'unsigned' ? 'IDENTITY_MISMATCH' : 'WASM_INVALID')
    }
    expect(await filesOf()).toEqual(before)
    expect((await rt.status())[0]?.state).toBe('RECOVERY_REQUIRED')
    const recovered = await rt.recover('counter')
    expect(recovered.state).toBe('ACTIVE_OWNER')
  })

  it('a well-formed package signed by another key, or unsigned (v0x03), never supersedes the copy held here', async () => {
    const rt = await strandedCopy()
    const before = await filesOf()
    const foreign = await refusal(rt.admitAgent(await packageAt(new Epoch(5n, 0n), rt, AgentIdentity.generate())))
    expect(foreign.code).toBe('IDENTITY_MISMATCH')
    expect(foreign.message).toMatch(/^identity mismatch with the copy held here: counter is did:key:z\S+ here, the package is signed by did:key:z/)
    const unsigned = await refusal(rt.admitAgent(await packageAt(new Epoch(5n, 0n), rt, 'unsigned')))
    expect(unsigned.code).toBe('IDENTITY_MISMATCH')
    expect(unsigned.message).toMatch(/unsigned \(v0x03\)/)
    expect(await filesOf()).toEqual(before)
    expect((await rt.status())[0]?.state).toBe('RECOVERY_REQUIRED')
    expect((await rt.recover('counter')).state).toBe('ACTIVE_OWNER')
  })

  it('after a completed hand-off, the tombstone keeps the agent key: only that agent comes back under the id', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    const key = await readIdentityFile(join(dir.path, 'checkpoints', 'counter.identity'))
    const snapshot = await rt.beginHandoff('counter', PEER)
    await snapshot.persisted
    const leaving = (await rt.store.load('counter'))!
    await rt.completeHandoff('counter', PEER)
    expect((await rt.store.readTombstone('counter'))?.agentKey).toBe(key.publicKeyHex)
    const impostor = await refusal(rt.admitAgent(await packageAt(new Epoch(9n, 0n), rt, AgentIdentity.generate(), leaving)))
    expect(impostor.code).toBe('IDENTITY_MISMATCH')
    const returned = await rt.admitAgent(await packageAt(new Epoch(9n, 0n), rt, key, leaving))
    expect(returned.epoch.toString()).toBe('(10,0)')
  })

  it('a package by the right key that fails after loading (its replay diverges) leaves the copy exactly as it was', async () => {
    const rt = await strandedCopy()
    const before = await filesOf()
    const pkg = await packageAt(new Epoch(2n, 0n), rt)
    const stored = (await rt.store.load('counter'))!
    // A replay of "the last tick" from the stored state cannot reproduce that same state (the counter counts).
    const diverging = { ...pkg, replayData: { preTickState: stored.state, tickNumber: stored.tickNumber, entries: [] } }
    const refused = await refusal(rt.admitAgent(diverging))
    expect(refused.code).toBe('REPLAY_FAILED')
    expect(await filesOf()).toEqual(before)
    expect((await rt.status())[0]?.state).toBe('RECOVERY_REQUIRED')
    expect((await rt.recover('counter')).state).toBe('ACTIVE_OWNER')
  })

  it('`retire` drops a stale copy durably and is refused for the live owner', async () => {
    const rt = await runtime()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await expect(rt.retire('counter')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' })
    expect((await rt.status())[0]?.state).toBe('ACTIVE_OWNER')
    await rt.beginHandoff('counter', PEER).then(async (s) => s.persisted)
    await rt.failHandoff('counter', 'no reply')
    const retired = await rt.retire('counter')
    expect(retired.state).toBe(AuthorityState.RETIRED)
    expect(await rt.store.readTombstone('counter')).not.toBeNull()
    expect((await rt.store.readAuthority('counter'))?.state).toBe('RETIRED')
    expect(await rt.store.load('counter')).toBeNull()
    expect((await rt.status())[0]?.state).toBe('RETIRED')
  })
})

describe('item 4: the answering side of /igor/authority/1.0.0', () => {
  it('holding nothing newer, it fences durably before answering, and then refuses a package at or below the fence', async () => {
    const rt = await NodeRuntime.open({ dataDir: dir.path, lease: { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }, pricePerSecond: 1000n })
    try {
      // Issue 16: only an asker that proves a stake is answered and fenced for (here: the agent key at (3,2)).
      const agentKey = AgentIdentity.generate()
      const stake = { peer: '12D3KooWasker', proven: { agentPubKey: agentKey.publicKey, epoch: new Epoch(3n, 2n) } }
      expect((await rt.answerAuthorityQuery('counter', new Epoch(3n, 2n), { peer: '12D3KooWasker', proven: null })).held).toBe('unknown')
      const answer = await rt.answerAuthorityQuery('counter', new Epoch(3n, 2n), stake)
      expect(answer).toMatchObject({ held: 'none', epoch: null })
      expect(answer.fenced?.toString()).toBe('(3,2)')
      const reopened = await NodeRuntime.open({ dataDir: dir.path, lease: null, pricePerSecond: 1000n })
      expect((await reopened.fences.read('counter'))?.toString()).toBe('(3,2)')
      await reopened.shutdown()
      const wasm = new Uint8Array(await readFile(agentPath('counter')))
      const checkpoint = (epoch: Epoch) => encodeSignedCheckpoint({ budget: 1000n, pricePerSecond: 1000n, tickNumber: 1n, wasmHash: createHash('sha256').update(wasm).digest(), epoch, leaseExpiry: 0n, state: new Uint8Array(8) }, GENESIS_PREV_HASH, agentKey)
      const pkg = (epoch: Epoch) => ({ agentId: 'counter', wasm, wasmHash: createHash('sha256').update(wasm).digest(), checkpoint: checkpoint(epoch), manifestData: new Uint8Array(0), sourceEpoch: epoch, sourceNodeId: 'src', identity: agentKey.toBytes() })
      expect((await refusal(rt.admitAgent(pkg(new Epoch(3n, 2n))))).code).toBe('FENCED')
      const admitted = await rt.admitAgent(pkg(new Epoch(3n, 3n)))
      expect(admitted.epoch.toString()).toBe('(4,0)')
      // Now it holds something newer than (3,2): a second asker is told so, and no fence is raised.
      const second = await rt.answerAuthorityQuery('counter', new Epoch(3n, 2n), stake)
      expect(second).toMatchObject({ held: 'copy', state: 'ACTIVE_OWNER' })
      expect(second.fenced).toBeNull()
    } finally {
      await rt.shutdown()
    }
  })
})

describe('item 3: status of an agent that could not be loaded', () => {
  it('shows the state its authority record holds, halted with the reason', async () => {
    const options = { dataDir: dir.path, lease: { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }, pricePerSecond: 1000n }
    const rt = await NodeRuntime.open(options)
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await rt.shutdown()
    const { writeFile } = await import('node:fs/promises')
    await writeFile(rt.store.checkpointPath('counter'), new Uint8Array([1, 2, 3]))
    const again = await NodeRuntime.open(options)
    try {
      await again.resumeStoredAgents()
      const row = (await again.status()).find((r) => r.agentId === 'counter')!
      expect(row.state).toBe((await again.store.readAuthority('counter'))!.state)
      expect(row.halted).not.toBeNull()
    } finally {
      await again.shutdown()
    }
  })
})
