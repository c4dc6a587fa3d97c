// SPEC §16 Drain: `igord drain` over real igord processes and real libp2p — 50 agents onto two peers, peers full or gone,
// arrivals refused while draining, an ambiguous hand-off left RECOVERY_REQUIRED.
import { spawn } from 'node:child_process'
import { copyFile, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'

const { nodes, dir } = useNodes()
const data = (name: string): string => join(dir.path, name)
const peerIdOf = (node: Igord): string => node.address().split('/p2p/')[1] as string
const history = (dataDir: string, agentId: string): string => join(dataDir, 'checkpoints', 'history', agentId)
const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false)

interface DrainJson {
  outcome: 'drained' | 'stayed'
  total: number
  moved: Array<{ agentId: string, to: string }>
  stayed: Array<{ agentId: string, reason: string }>
  ms: number
  nodeStopped: boolean
}

/** `n` copies of counter.wasm (with its manifest) named c01…, in a directory for --run-agents. */
async function counters(n: number, name = 'agents'): Promise<{ path: string, ids: string[] }> {
  const path = data(name)
  await mkdir(path, { recursive: true })
  const ids = Array.from({ length: n }, (_, i) => `c${String(i + 1).padStart(2, '0')}`)
  for (const id of ids) {
    await copyFile(agentPath('counter'), join(path, `${id}.wasm`))
    await copyFile(agentPath('counter').replace(/\.wasm$/, '.manifest.json'), join(path, `${id}.manifest.json`))
  }
  return { path, ids }
}

async function peersOf(dataDir: string): Promise<Array<{ peerId: string, price: string | null, failures: number }>> {
  const result = await runCli(['peers', '--json', '--data-dir', dataDir])
  return (JSON.parse(result.stdout) as { peers: Array<{ peerId: string, price: string | null, failures: number }> }).peers
}

/** Agent ids `node` holds as the ticking owner. */
async function owned(node: Igord): Promise<string[]> {
  return (await node.status()).agents.filter((a) => a.state === 'ACTIVE_OWNER').map((a) => a.agentId).sort()
}

describe('igord drain (SPEC §16)', () => {
  it('empties a node of 50 agents onto two peers, past a price-0 peer that refuses everything: exit 0, every agent exactly once, lineage VALID', async () => {
    const { path, ids } = await counters(50)
    const [B, C, D] = await Promise.all([
      nodes.start(data('B'), ['--price-per-second', '1000']).ready(),
      nodes.start(data('C'), ['--price-per-second', '2000']).ready(),
      // Hostile: the cheapest on offer, and full — it refuses every arrival (NODE_FULL).
      nodes.start(data('D'), ['--price-per-second', '0', '--max-agents', '1', '--run-agent', agentPath('counter')]).ready()
    ])
    const A = await nodes.start(data('A'), ['--price-per-second', '5000', '--run-agents', path, '--peer', B.address(), '--peer', C.address(), '--peer', D.address()]).ready()
    await waitFor('every price known on A', async () => (await peersOf(A.dataDir)).filter((p) => p.price !== null).length === 3, 120_000)
    await ticking(A, 'c50')
    const result = await runCli(['drain', '--json', '--data-dir', A.dataDir], 600_000)
    if (result.code !== 0) throw new Error(`drain failed (${result.code}):\n${result.stdout}\n${result.stderr}`)
    const report = JSON.parse(result.stdout) as DrainJson
    console.log(`drain of 50 agents: ${report.ms} ms (one sample)`)
    expect(report).toMatchObject({ outcome: 'drained', total: 50, stayed: [], nodeStopped: true })
    expect(report.moved.map((m) => m.agentId).sort()).toEqual(ids)
    expect((await A.exited).code).toBe(0)
    // Every agent exactly once across the peers, where the report says it went; the hostile peer took none.
    const [onB, onC, onD] = await Promise.all([owned(B), owned(C), owned(D)])
    expect([...onB, ...onC].sort()).toEqual(ids)
    expect(onB.filter((id) => onC.includes(id))).toEqual([])
    expect(onD).toEqual(['counter'])
    for (const { agentId, to } of report.moved) expect(to).toBe(onB.includes(agentId) ? peerIdOf(B) : peerIdOf(C))
    // Failures demoted it: D was tried by the first placements only, not by each of the 50.
    const refusedAtD = D.logs.filter((l) => l.msg.startsWith('hand-off refused')).length
    expect(refusedAtD).toBeGreaterThanOrEqual(1)
    expect(refusedAtD).toBeLessThanOrEqual(8)
    expect((await peersOf(A.dataDir)).find((p) => p.peerId === peerIdOf(D))?.failures).toBeGreaterThanOrEqual(3)
    // Lineage over both data dirs, for a sample.
    for (const agentId of ['c01', 'c17', 'c33', 'c50']) {
      const target = onB.includes(agentId) ? B : C
      const verified = await runCli(['verify', history(A.dataDir, agentId), history(target.dataDir, agentId)])
      if (verified.code !== 0) throw new Error(`verify ${agentId} failed:\n${verified.stdout}${verified.stderr}`)
    }
    // A restart of the drained node brings nothing back to life.
    const again = await nodes.start(A.dataDir).ready()
    const after = (await again.status()).agents
    expect(after.filter((a) => a.state !== 'RETIRED')).toEqual([])
    expect(after.map((a) => a.agentId).sort()).toEqual(ids)
  }, 900_000)

  it('one peer full, the other gone: the agents that stay are listed one per line, exit 1, the node stops; they restart on the source', async () => {
    const { path, ids } = await counters(8)
    const [B, C] = await Promise.all([
      nodes.start(data('B'), ['--price-per-second', '1000', '--max-agents', '3']).ready(),
      nodes.start(data('C'), ['--price-per-second', '2000']).ready()
    ])
    const A = await nodes.start(data('A'), ['--run-agents', path, '--peer', B.address(), '--peer', C.address()]).ready()
    await waitFor('both prices known on A', async () => (await peersOf(A.dataDir)).filter((p) => p.price !== null).length === 2, 120_000)
    await C.kill()
    await ticking(A, 'c08')
    const result = await runCli(['drain', '--data-dir', A.dataDir], 600_000)
    expect(result.code).toBe(1)
    const lines = result.stdout.trim().split('\n')
    const stayedLines = lines.filter((l) => l.startsWith('stayed '))
    expect(stayedLines).toHaveLength(5)
    for (const line of stayedLines) expect(line).toMatch(/^stayed c0\d: \S.*$/)
    expect(lines[lines.length - 1]).toMatch(/^drain finished: 3 of 8 agent\(s\) moved, 5 stayed \(checkpointed here; start the node again to run them\) in \d+\.\d s; the node stopped$/)
    expect(result.stderr).toContain('draining: 8 agent(s) here, 8 to move')
    expect((await A.exited).code).toBe(0)
    const stayed = stayedLines.map((l) => (/^stayed (c\d\d):/.exec(l) as RegExpExecArray)[1] as string).sort()
    const onB = await owned(B)
    expect(onB).toHaveLength(3)
    expect([...onB, ...stayed].sort()).toEqual(ids)
    // Still owned by the source: checkpointed there, and a restart runs them.
    for (const agentId of stayed) expect(await exists(join(A.dataDir, 'checkpoints', `${agentId}.checkpoint`))).toBe(true)
    const again = await nodes.start(A.dataDir).ready()
    for (const agentId of stayed) await ticking(again, agentId)
    expect(await owned(again)).toEqual(stayed)
  }, 600_000)

  it('while draining, arrivals are refused (migration and import), a second drain is refused and status says draining; an ambiguous hand-off stays RECOVERY_REQUIRED', async () => {
    const silent = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/silent-target.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    silent.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    try {
      const address = (await waitFor('silent target address', () => /address (\S+)/.exec(out)))[1] as string
      const { path } = await counters(2, 'visitors')
      const [A, E] = await Promise.all([
        nodes.start(data('A'), ['--run-agent', agentPath('counter'), '--transfer-timeout', '40s']).ready(),
        nodes.start(data('E'), ['--run-agents', path]).ready()
      ])
      await ticking(A, 'counter')
      await ticking(E, 'c02')
      const parcel = join(dir.path, 'c02.igor')
      expect((await runCli(['export', 'c02', '--out', parcel, '--data-dir', E.dataDir])).code).toBe(0)
      // The only agent goes to a target that takes the package and never answers: the drain stays open for the transfer timeout.
      const pending = runCli(['drain', '--to', address, '--json', '--data-dir', A.dataDir], 300_000)
      await waitFor('package received by the silent target', () => out.includes('received'), 120_000)
      const status = await runCli(['status', '--data-dir', A.dataDir])
      expect(status.stdout).toMatch(/^draining \(to \/ip4\/.*\): 0 of 1 moved, 0 stayed, 1 pending; arrivals refused$/m)
      const [second, migrated, imported] = await Promise.all([
        runCli(['drain', '--data-dir', A.dataDir]),
        runCli(['migrate', 'c01', '--to', A.address(), '--data-dir', E.dataDir]),
        runCli(['import', parcel, '--data-dir', A.dataDir])
      ])
      expect(second.code).toBe(1)
      expect(second.stderr).toMatch(/^igord: this node is draining already \(since .*, to \/ip4\/.*: 0 of 1 moved, 0 stayed\); igord status shows its progress\n$/)
      expect(migrated.code).toBe(1)
      expect(migrated.stderr).toContain('this node is draining (igord drain): it takes no arrivals; c01 refused')
      expect(imported.code).toBe(1)
      expect(imported.stderr).toBe('igord: this node is draining (igord drain): it takes no arrivals; c02 refused\n')
      silent.kill('SIGKILL') // the package's fate stays unknown to A: its hand-off ends ambiguous now
      await ticking(E, 'c01') // the definite refusal left it running at its source
      const result = await pending
      expect(result.code).toBe(1)
      const report = JSON.parse(result.stdout) as DrainJson
      expect(report).toMatchObject({ outcome: 'stayed', total: 1, moved: [], nodeStopped: true })
      expect(report.stayed).toEqual([{ agentId: 'counter', reason: expect.stringMatching(/^RECOVERY_REQUIRED \(assisted recovery settles it\): /) }])
      expect((await A.exited).code).toBe(0)
      const again = await nodes.start(A.dataDir).ready()
      expect((await again.agent('counter'))?.state).toBe('RECOVERY_REQUIRED')
    } finally {
      silent.kill('SIGKILL')
    }
  }, 600_000)

  it('a hand-off refused before the target read it (RATE_LIMITED, no agent named) is a definite refusal: the agent keeps ticking here', async () => {
    const { path } = await counters(2)
    const B = await nodes.start(data('B'), ['--peer-admissions-per-minute', '1']).ready()
    const A = await nodes.start(data('A'), ['--run-agents', path]).ready()
    await ticking(A, 'c02')
    expect((await runCli(['migrate', 'c01', '--to', B.address(), '--data-dir', A.dataDir])).code).toBe(0)
    const limited = await runCli(['migrate', 'c02', '--to', B.address(), '--data-dir', A.dataDir])
    expect(limited.code).toBe(1)
    expect(limited.stderr).toContain('too many hand-offs from this peer')
    const after = await A.agent('c02')
    expect(after?.state).toBe('ACTIVE_OWNER')
    await ticking(A, 'c02', BigInt(after?.tickNumber ?? '0'))
  })

  it('an offline node: one line, exit 1; bad flags: exit 2', async () => {
    const offline = await runCli(['drain', '--data-dir', data('nothing')])
    expect(offline.code).toBe(1)
    expect(offline.stderr).toMatch(/^igord: no igord is running with data dir .*\n$/)
    const bad = await runCli(['drain', '--to', 'nowhere', '--data-dir', data('nothing')])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^igord: --to must be auto or a multiaddr/)
    const wide = await runCli(['drain', '--concurrency', '0', '--data-dir', data('nothing')])
    expect(wide.code).toBe(2)
  })
})
