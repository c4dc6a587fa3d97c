import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { encodeAgentTransfer, packageFromSnapshot } from '@igor/migration'
import { NodeRuntime, silentLogger } from '@igor/runner'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { exportAgent, settleInterruptedExports } from './export.js'
import { readPackageFile } from './import.js'

const LEASE = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 200 }

let dir: string
const open: NodeRuntime[] = []

beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'igord-export-')) })
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.shutdown().catch(() => undefined)
  await rm(dir, { recursive: true, force: true })
})

async function node(): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir: join(dir, 'node'), lease: LEASE, pricePerSecond: 1000n, timing: FAST })
  open.push(rt)
  return rt
}

async function row(rt: NodeRuntime, agentId = 'counter') {
  return (await rt.status()).find((a) => a.agentId === agentId)
}

async function ticked(rt: NodeRuntime, past: bigint): Promise<void> {
  const deadline = Date.now() + 60_000
  while (((await row(rt))?.tickNumber ?? 0n) <= past) {
    if (Date.now() > deadline) throw new Error('counter did not tick')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A node that stops without finishing the export (as a crash would leave its records), and comes back. */
async function crashAndRestart(rt: NodeRuntime): Promise<NodeRuntime> {
  await rt.shutdown()
  open.splice(open.indexOf(rt), 1)
  const again = await node()
  await again.resumeStoredAgents()
  return again
}

describe('igord export (SPEC §12)', () => {
  it('retires the agent with a complete 0600 package, never overwrites a file, and refuses an agent it does not hold', async () => {
    const rt = await node()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await ticked(rt, 2n)
    const file = join(dir, 'counter.igor')
    await writeFile(file, 'taken')
    await expect(exportAgent(rt, 'counter', file, 'node-a', silentLogger)).rejects.toThrow(/exists; export never overwrites/)
    expect((await row(rt))?.state).toBe('ACTIVE_OWNER')
    await rm(file)
    const { status, bytes } = await exportAgent(rt, 'counter', file, 'node-a', silentLogger)
    expect(status).toMatchObject({ state: 'RETIRED', movedTo: `exported to ${file}` })
    expect((await stat(file)).size).toBe(bytes)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const transfer = await readPackageFile(file)
    expect(transfer.Package.AgentID).toBe('counter')
    expect(transfer.SourceNodeID).toBe('node-a')
    expect(transfer.Package.AgentIdentity?.byteLength).toBe(68)
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([])
    await expect(exportAgent(rt, 'counter', join(dir, 'again.igor'), 'node-a', silentLogger)).rejects.toThrow(/no agent "counter"/)
  })

  it('a crash before the file was in place: the agent stays here (recovered), temporaries removed', async () => {
    const rt = await node()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await ticked(rt, 2n)
    const file = join(dir, 'counter.igor')
    const snapshot = await rt.beginHandoff('counter', `export:${file}`)
    await snapshot.persisted
    await writeFile(`${file}.0123456789abcdef.tmp`, 'half a package')
    const again = await crashAndRestart(rt)
    expect((await row(again))?.state).toBe('RECOVERY_REQUIRED')
    await settleInterruptedExports(again, silentLogger)
    const after = await row(again)
    expect(after).toMatchObject({ state: 'ACTIVE_OWNER', halted: null })
    expect(after?.epoch.supersedes(snapshot.epoch)).toBe(true)
    expect(await readdir(dir)).toEqual(['node'])
    await ticked(again, snapshot.tickNumber)
  })

  it('a crash after the file was in place: the agent is retired here, exported to the file', async () => {
    const rt = await node()
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    await ticked(rt, 2n)
    const file = join(dir, 'counter.igor')
    const snapshot = await rt.beginHandoff('counter', `export:${file}`)
    await snapshot.persisted
    await writeFile(file, encodeAgentTransfer({ Package: packageFromSnapshot(snapshot), SourceNodeID: 'node-a' }), { mode: 0o600 })
    const again = await crashAndRestart(rt)
    await settleInterruptedExports(again, silentLogger)
    expect(await row(again)).toMatchObject({ state: 'RETIRED', movedTo: `exported to ${file}` })
    expect(await again.store.load('counter')).toBeNull()
  })
})
