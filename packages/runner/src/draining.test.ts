// SPEC §16 drain: a draining node refuses every arrival with NODE_DRAINING (a definite refusal), leaving nothing behind.
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from './node-runtime.js'
import { agentWat, tempDir, waitFor, wat } from '@igor/test-kit'

const LEASE = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 200 }

let dir: { path: string, remove: () => Promise<void> }
const open: NodeRuntime[] = []

async function runtime(sub: string): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir: join(dir.path, sub), lease: LEASE, pricePerSecond: 1000n, timing: FAST })
  open.push(rt)
  return rt
}

beforeEach(async () => { dir = await tempDir() })
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.shutdown()
  await dir.remove()
})

/** A package of a plain agent, as a source would send it. */
async function agentPackage(agentId: string) {
  const path = join(dir.path, `${agentId}.wasm`)
  await writeFile(path, await wat(agentWat({})))
  const source = await runtime(`source-${agentId}`)
  await source.startAgent({ wasmPath: path, budget: 1_000_000n })
  await waitFor('2 ticks', async () => (await source.status())[0]!.tickNumber >= 2n)
  const snapshot = await source.beginHandoff(agentId, '/ip4/127.0.0.1/tcp/1/p2p/x')
  await snapshot.persisted
  return {
    agentId,
    wasm: snapshot.module.wasm,
    wasmHash: snapshot.module.prepared.wasmHash,
    checkpoint: snapshot.checkpoint,
    manifestData: snapshot.module.manifest.raw,
    sourceEpoch: snapshot.epoch,
    sourceNodeId: 'source',
    replayData: snapshot.replayData
  }
}

describe('draining (SPEC §16)', () => {
  it('refuses an arrival with NODE_DRAINING and writes nothing; the same package is admitted by a node that is not draining', async () => {
    const target = await runtime('target')
    expect(target.draining).toBe(false)
    target.startDraining()
    target.startDraining() // idempotent
    expect(target.draining).toBe(true)
    const pkg = await agentPackage('mover')
    await expect(target.admitAgent(pkg)).rejects.toMatchObject({
      code: 'NODE_DRAINING',
      message: 'this node is draining (igord drain): it takes no arrivals; mover refused'
    })
    expect(await target.status()).toEqual([])
    expect((await readdir(target.store.dir)).filter((name) => name.startsWith('mover'))).toEqual([])
    const other = await runtime('other')
    expect((await other.admitAgent(pkg)).state).toBe('ACTIVE_OWNER')
  })
})
