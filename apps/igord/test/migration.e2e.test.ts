import { spawn } from 'node:child_process'
import { access, copyFile, cp, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agentPath } from '@igor/agents'
import { encodeAgentTransfer } from '@igor/migration'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, sleep, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'
import { SingleInstanceObserver, survivorTicks } from './observer.js'
import { TestPeer } from './p2p-client.js'

const { nodes, dir } = useNodes()
let observer: SingleInstanceObserver | null = null

// Registered after useNodes' hook, so it runs first: the observer stops before the nodes are killed.
afterEach(async () => {
  await observer?.stop()
  observer = null
})

const data = (name: string): string => join(dir.path, name)
const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

async function migrate(from: Igord, agentId: string, to: Igord): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return runCli(['migrate', agentId, '--to', to.address(), '--data-dir', from.dataDir])
}

/** Starts nodes named after their data dirs and watches them with the single-instance observer. */
async function cluster(spec: Record<string, string[]>): Promise<Record<string, Igord>> {
  const started: Record<string, Igord> = {}
  for (const [name, args] of Object.entries(spec)) started[name] = nodes.start(data(name), args)
  await Promise.all(Object.values(started).map(async (n) => n.ready()))
  observer = new SingleInstanceObserver(started)
  return started
}

// A price just under survivor's max_price_per_second (100000) makes every tick visibly cost something.
const PRICE = ['--price-per-second', '90000']

describe('agents move between nodes (SPEC §7)', () => {
  it('A→B→C→A: one owner after each hop, epochs (1,·) (2,·) (3,·), ticks continue, budget falls, old owners keep only a tombstone', async () => {
    const { A, B, C } = await cluster({ A: [...PRICE, '--run-agent', agentPath('survivor')], B: PRICE, C: PRICE })
    const hops: Array<[Igord, Igord, string, string]> = [[A!, B!, 'A', 'B'], [B!, C!, 'B', 'C'], [C!, A!, 'C', 'A']]
    let last = await ticking(A!, 'survivor', 1n)
    for (const [index, [from, to, fromName, toName]] of hops.entries()) {
      const before = (await from.agent('survivor'))!
      const result = await migrate(from, 'survivor', to)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      const peer = (await to.status()).node.peerId
      expect(result.stdout).toMatch(/^migrated survivor to \S+: now at epoch \(\d+,0\); \d+(\.\d)? (B|KiB|MiB) in \d+ ms \(.+\/s\)\n$/)
      expect(result.stdout.startsWith(`migrated survivor to ${peer}: now at epoch (${index + 1},0); `)).toBe(true)

      const now = await ticking(to, 'survivor', BigInt(before.tickNumber))
      expect(now.majorVersion).toBe(String(index + 1))
      expect(BigInt(now.tickNumber)).toBeGreaterThan(BigInt(last.tickNumber))
      expect(BigInt(now.budget)).toBeLessThan(BigInt(last.budget))
      const retired = (await from.agent('survivor'))!
      expect(retired).toMatchObject({ state: 'RETIRED', movedTo: peer })
      expect(await exists(join(from.dataDir, 'checkpoints', 'survivor.checkpoint'))).toBe(false)
      expect(await exists(join(from.dataDir, 'checkpoints', 'survivor.tombstone.json'))).toBe(true)
      await waitFor('one owner', () => {
        const owners = observer!.owners('survivor')
        return owners.length === 1 && owners[0] === toName ? owners : null
      })
      expect(observer!.owners('survivor')).not.toContain(fromName)
      last = now
    }
    await ticking(A!, 'survivor', BigInt(last.tickNumber) + 1n)
    await observer!.stop()
    expect(observer!.violations).toEqual([])
    // Ground truth: each tick number ran exactly once, on one node, in order.
    const ticks = survivorTicks({ A: A!, B: B!, C: C! })
    const numbers = ticks.map((t) => t.tick)
    expect(new Set(numbers).size).toBe(numbers.length)
    expect(numbers).toEqual(numbers.map((_, i) => BigInt(i + 1)))
    const owners = ticks.map((t) => t.node).filter((n, i, all) => i === 0 || all[i - 1] !== n)
    expect(owners).toEqual(['A', 'B', 'C', 'A'])
  })

  it('rapid hops, before any periodic checkpoint, still advance the epoch at every hop', async () => {
    const { A, B, C } = await cluster({ A: ['--run-agent', agentPath('survivor')], B: [], C: [] })
    await ticking(A!, 'survivor')
    for (const [from, to, major] of [[A!, B!, 1], [B!, C!, 2], [C!, A!, 3], [A!, B!, 4]] as const) {
      const result = await migrate(from, 'survivor', to)
      expect(result.stderr).toBe('')
      expect(result.stdout).toMatch(new RegExp(`now at epoch \\(${major},0\\)`))
    }
    expect((await B!.agent('survivor'))!.majorVersion).toBe('4')
    await observer!.stop()
    expect(observer!.violations).toEqual([])
  })

  it('a node that received an agent keeps the advanced epoch across a restart', async () => {
    const { A, B } = await cluster({ A: ['--run-agent', agentPath('survivor')], B: [] })
    await ticking(A!, 'survivor')
    expect((await migrate(A!, 'survivor', B!)).code).toBe(0)
    const arrived = await ticking(B!, 'survivor')
    await observer!.stop()
    expect(await B!.stop()).toEqual({ code: 0, signal: null })
    const again = await nodes.start(data('B')).ready()
    const resumed = await ticking(again, 'survivor', BigInt(arrived.tickNumber))
    expect(resumed.majorVersion).toBe('1')
    expect(BigInt(resumed.leaseGeneration)).toBeGreaterThanOrEqual(1n)
    // And the old owner never resurrects it.
    await A!.stop()
    const oldOwner = nodes.start(data('A'), ['--run-agent', agentPath('survivor')])
    const exit = await oldOwner.exited
    expect(exit.code).toBe(1)
    expect(oldOwner.stderr).toMatch(/^igord: agent survivor was handed off to 12D3Koo/)
  })

  describe('refusals leave the agent ticking on the source at (M,G+1) and print the target\'s reason', () => {
    async function refused(sourceArgs: string[], targetArgs: string[], agentId: string, reason: RegExp): Promise<void> {
      const { A, B } = await cluster({ A: sourceArgs, B: targetArgs })
      const before = await ticking(A!, agentId)
      const result = await migrate(A!, agentId, B!)
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(reason)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      const after = await ticking(A!, agentId, BigInt(before.tickNumber))
      expect(after.majorVersion).toBe(before.majorVersion)
      expect(BigInt(after.leaseGeneration)).toBe(BigInt(before.leaseGeneration) + 1n)
      expect(await B!.agent(agentId)).toBeUndefined()
      expect(await exists(join(B!.dataDir, 'checkpoints', `${agentId}.checkpoint`))).toBe(false)
      expect(await exists(join(B!.dataDir, 'checkpoints', `${agentId}.module`))).toBe(false)
      await observer!.stop()
      expect(observer!.violations).toEqual([])
    }

    it('target price above the manifest\'s max_price_per_second', async () => {
      await refused(['--run-agent', agentPath('survivor')], ['--price-per-second', '100001'], 'survivor', /refused survivor: .*price 100001 exceeds the agent's max_price_per_second 100000/)
    })

    it('migration_policy.enabled false', async () => {
      await copyFile(agentPath('counter'), join(dir.path, 'homebody.wasm'))
      await writeFile(join(dir.path, 'homebody.manifest.json'), JSON.stringify({ capabilities: {}, migration_policy: { enabled: false } }))
      await refused(['--run-agent', join(dir.path, 'homebody.wasm')], [], 'homebody', /does not allow migration \(migration_policy\.enabled is false\)/)
    })

    it('a capability the target lacks', async () => {
      await refused(['--run-agent', agentPath('survivor')], ['--capabilities', 'clock,log'], 'survivor', /capability "rand" is not offered by this node/)
    })

    it('a stale epoch (a node restored from an old backup)', async () => {
      const { A, B } = await cluster({ A: ['--run-agent', agentPath('counter')], B: [] })
      await ticking(A!, 'counter')
      await A!.stop()
      await cp(data('A'), data('A-backup'), { recursive: true })
      const a = await nodes.start(data('A'), []).ready()
      await ticking(a, 'counter')
      expect((await migrate(a, 'counter', B!)).code).toBe(0)
      const heldByB = await ticking(B!, 'counter')
      // The operator brings back the old copy (and its identity) and tries to hand it over again.
      await a.stop()
      await observer!.stop()
      const restored = await nodes.start(data('A-backup'), []).ready()
      const before = await ticking(restored, 'counter')
      const result = await migrate(restored, 'counter', B!)
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/refused counter: stale package: this node holds counter at \(1,\d+\), not superseded by \(0,\d+\)/)
      const after = await ticking(restored, 'counter', BigInt(before.tickNumber))
      expect(BigInt(after.leaseGeneration)).toBe(BigInt(before.leaseGeneration) + 1n)
      expect((await B!.agent('counter'))!.majorVersion).toBe(heldByB.majorVersion)
    })

    it('a tampered WASM hash (hand-made package) is refused with the reason, and nothing is left behind', async () => {
      const { B } = await cluster({ B: [] })
      const peer = await TestPeer.start()
      try {
        const wasm = new Uint8Array(await readFile(agentPath('counter')))
        const checkpoint = new Uint8Array(81 + 8)
        checkpoint[0] = 3
        const transfer = encodeAgentTransfer({
          Package: { AgentID: 'forged', WASMBinary: wasm, WASMHash: new Uint8Array(32).fill(7), Checkpoint: checkpoint, ManifestData: new Uint8Array(0), Budget: 5n, PricePerSecond: 1n, MajorVersion: 0n, LeaseGeneration: 0n },
          SourceNodeID: peer.peerId
        })
        const { reply } = await peer.send(B!.address(), transfer)
        expect(reply).toMatchObject({ AgentID: 'forged', Success: false })
        expect(reply!.Error).toMatch(/WASMHash 0707.* does not match SHA-256 of the binary [0-9a-f]{64}/)
        expect(await B!.agent('forged')).toBeUndefined()
        expect(await exists(join(B!.dataDir, 'checkpoints', 'forged.module'))).toBe(false)
      } finally {
        await peer.stop()
      }
    })
  })

  it('target killed (SIGKILL) after the package is sent and before it replies: the source ends in RECOVERY_REQUIRED, not ticking', async () => {
    const { A } = await cluster({ A: ['--run-agent', agentPath('counter')] })
    await ticking(A!, 'counter')
    const silent = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/silent-target.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    silent.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    try {
      const address = (await waitFor('silent target address', () => /address (\S+)/.exec(out)))[1]!
      const pending = runCli(['migrate', 'counter', '--to', address, '--data-dir', A!.dataDir])
      await waitFor('package received', () => out.includes('received'))
      silent.kill('SIGKILL')
      const result = await pending
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/counter is RECOVERY_REQUIRED here/)
      const halted = (await A!.agent('counter'))!
      expect(halted.state).toBe('RECOVERY_REQUIRED')
      await sleep(2500)
      expect((await A!.agent('counter'))!.tickNumber).toBe(halted.tickNumber)
      // A restart does not turn it back into an owner either.
      await observer!.stop()
      await A!.stop()
      const again = await nodes.start(data('A')).ready()
      expect((await again.agent('counter'))!.state).toBe('RECOVERY_REQUIRED')
    } finally {
      silent.kill('SIGKILL')
    }
  })

  it('a hostile peer (garbage, oversized, silent) is cut off within the limits and the node keeps serving', async () => {
    const { A, B } = await cluster({ A: ['--run-agent', agentPath('counter')], B: ['--max-transfer-bytes', '1048576', '--transfer-timeout', '2s'] })
    const peer = await TestPeer.start()
    try {
      const garbage = await peer.send(B!.address(), new TextEncoder().encode('this is not json at all'))
      expect(garbage.reply).toMatchObject({ Success: false })

      const huge = new TextEncoder().encode(`{"Package":{"AgentID":"x","WASMBinary":"${'A'.repeat(2 * 1024 * 1024)}"}}`)
      const oversized = await peer.send(B!.address(), huge)
      expect(oversized.reply?.Success ?? false).toBe(false)
      if (oversized.reply !== null) expect(oversized.reply.Error).toMatch(/1048576/)

      const silent = await peer.send(B!.address(), new TextEncoder().encode('{"Package":'), { closeWrite: false, replyTimeoutMs: 20_000 })
      expect(silent.reply?.Success ?? false).toBe(false)
      expect(silent.ms).toBeLessThan(20_000) // cut off by the node's 2 s limit, not by our patience

      // Still serving: status answers and a real hand-off succeeds.
      expect((await B!.status()).node.peerId).toMatch(/^12D3Koo/)
      await ticking(A!, 'counter')
      expect((await migrate(A!, 'counter', B!)).code).toBe(0)
      await ticking(B!, 'counter')
    } finally {
      await peer.stop()
    }
    await observer!.stop()
    expect(observer!.violations).toEqual([])
  })

  it('a crash of the source at a random moment of a hand-off never leaves two ticking copies after restarts', async () => {
    const { A, B } = await cluster({ A: ['--run-agent', agentPath('counter')], B: [] })
    await ticking(A!, 'counter')
    const migration = runCli(['migrate', 'counter', '--to', B!.address(), '--data-dir', A!.dataDir])
    await sleep(Math.floor(Math.random() * 400))
    await A!.kill()
    await migration
    const a = nodes.start(data('A'))
    await a.ready()
    await sleep(1500)
    const onA = await a.agent('counter')
    const onB = await B!.agent('counter')
    const owners = [onA, onB].filter((s) => s !== undefined && s.state === 'ACTIVE_OWNER' && s.halted === null)
    expect(owners.length).toBeLessThanOrEqual(1)
    await observer!.stop()
    expect(observer!.violations).toEqual([])
  })
})
