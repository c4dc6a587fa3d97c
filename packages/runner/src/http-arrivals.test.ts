// SPEC §13: `http` is granted to agents arriving by migration only if the
// node offers it to arrivals (igord `--capabilities …,http+arrivals`).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeRuntime } from './node-runtime.js'
import type { NodeRuntimeOptions } from './node-runtime.js'
import { agentWat, tempDir, waitFor, wat } from '@igor/test-kit'

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

/** A package for an agent that declares (and imports, never calls) `http`, as a source would send it. */
async function httpAgentPackage(agentId: string) {
  const path = join(dir.path, `${agentId}.wasm`)
  await writeFile(path, await wat(agentWat({
    imports: '(import "igor" "http_request" (func $http (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))'
  })))
  await writeFile(join(dir.path, `${agentId}.manifest.json`), JSON.stringify({ capabilities: { http: { version: 1, options: { allowed_hosts: ['api.example.com'] } } } }))
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

describe('http for arrivals (SPEC §13)', () => {
  it('refused by default (http offered to the node\'s own agents only); nothing is left behind', async () => {
    const target = await runtime('target')
    expect(target.capabilities.has('http')).toBe(true)
    await expect(target.admitAgent(await httpAgentPackage('pushed'))).rejects.toMatchObject({
      code: 'UNDECLARED_CAPABILITY',
      message: 'agent pushed: capability "http" is not offered to agents arriving by migration (igord --capabilities …,http+arrivals)'
    })
    expect(await target.status()).toEqual([])
    expect(await target.store.listAgents()).toEqual([])
  }, 60_000)

  it('admitted where arrivalCapabilities include http', async () => {
    const target = await runtime('target', { arrivalCapabilities: ['clock', 'rand', 'log', 'wallet', 'http'] })
    const status = await target.admitAgent(await httpAgentPackage('invited'))
    expect(status.agentId).toBe('invited')
  }, 60_000)

  it('a node that does not offer http at all still says so', async () => {
    const target = await runtime('target', { capabilities: ['clock', 'log'] })
    await expect(target.admitAgent(await httpAgentPackage('pushed'))).rejects.toThrow(/capability "http" is not offered by this node/)
  }, 60_000)
})
