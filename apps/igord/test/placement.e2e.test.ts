// SPEC §16 Placement: `igord migrate <id> --to auto` over real igord processes and real libp2p.
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'

const { nodes, dir } = useNodes()
const data = (name: string): string => join(dir.path, name)
const peerIdOf = (node: Igord): string => node.address().split('/p2p/')[1] as string

interface PeerJson { peerId: string, price: string | null, capabilities: string[] | null, freeSlots: number | null, failures: number }
interface PlacementJson {
  outcome: string
  placed: { target: string } | null
  tried: Array<{ peerId: string, outcome: string, attempts: Array<{ kind: string, code: string }> }>
  passedOver: Array<{ peerId: string, reason: string }>
  summary: string
}

async function peersOf(node: Igord): Promise<PeerJson[]> {
  const result = await runCli(['peers', '--json', '--data-dir', node.dataDir])
  return (JSON.parse(result.stdout) as { peers: PeerJson[] }).peers
}

/**
 * B (price 1000), C (2000), D (200000, above survivor's max_price_per_second 100000) and A holding
 * survivor, knowing all three through --peer; resolves once A's price scan has every price.
 */
async function threeNodes(b: string[] = [], c: string[] = []): Promise<{ A: Igord, B: Igord, C: Igord, D: Igord }> {
  const [B, C, D] = await Promise.all([
    nodes.start(data('B'), ['--price-per-second', '1000', ...b]).ready(),
    nodes.start(data('C'), ['--price-per-second', '2000', ...c]).ready(),
    nodes.start(data('D'), ['--price-per-second', '200000']).ready()
  ])
  const A = await nodes.start(data('A'), ['--price-per-second', '5000', '--run-agent', agentPath('survivor'), '--peer', B.address(), '--peer', C.address(), '--peer', D.address()]).ready()
  await waitFor('every price known on A', async () => (await peersOf(A)).filter((p) => p.price !== null).length === 3, 60_000)
  await ticking(A, 'survivor', 1n)
  return { A, B, C, D }
}

async function placeAuto(A: Igord): Promise<{ code: number | null, report: PlacementJson, stderr: string }> {
  const result = await runCli(['migrate', 'survivor', '--to', 'auto', '--json', '--data-dir', A.dataDir], 120_000)
  return { code: result.code, report: JSON.parse(result.stdout) as PlacementJson, stderr: result.stderr }
}

describe('igord migrate --to auto (SPEC §16)', () => {
  it('picks the cheapest node that satisfies the manifest; the dear one is left out with its price', async () => {
    const { A, B, D } = await threeNodes()
    const scanned = await peersOf(A)
    expect(scanned.find((p) => p.peerId === peerIdOf(B))).toMatchObject({ price: '1000', failures: 0 })
    expect(scanned.find((p) => p.peerId === peerIdOf(B))?.capabilities).toContain('rand')
    const started = performance.now()
    const { code, report } = await placeAuto(A)
    // Issue 20's figure, one sample (CLI spawn, scan, hand-off, first answer): printed, never asserted.
    console.log(`placement with 3 candidates: ${Math.round(performance.now() - started)} ms (one sample, igord migrate --to auto end to end)`)
    expect(code).toBe(0)
    expect(report.outcome).toBe('placed')
    expect(report.placed?.target).toBe(peerIdOf(B))
    expect(report.passedOver).toEqual([{ peerId: peerIdOf(D), reason: 'price 200000 above the agent\'s max_price_per_second 100000' }])
    expect(report.summary).toBe(`placed survivor on ${peerIdOf(B)} (price 1000); left out ${peerIdOf(D)}: price 200000 above the agent's max_price_per_second 100000`)
    await ticking(B, 'survivor', 1n)
    expect((await A.agent('survivor'))?.state).toBe('RETIRED')
  })

  it('text mode: progress lines on stderr, the summary on stdout', async () => {
    const { A, B } = await threeNodes()
    const result = await runCli(['migrate', 'survivor', '--to', 'auto', '--data-dir', A.dataDir], 120_000)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^placed survivor on ${peerIdOf(B)} \\(price 1000\\)`))
    await ticking(B, 'survivor', 1n)
  })

  it('the cheapest lacks a capability the agent declares: it is left out, the next one takes the agent, and the summary says why', async () => {
    const { A, B, C } = await threeNodes(['--capabilities', 'clock,log'])
    const { code, report } = await placeAuto(A)
    expect(code).toBe(0)
    expect(report.placed?.target).toBe(peerIdOf(C))
    expect(report.passedOver).toContainEqual({ peerId: peerIdOf(B), reason: 'does not offer rand' })
    expect(report.summary).toContain('; left out ') // the left-out peers follow in registry order
    expect(report.summary).toContain(`${peerIdOf(B)}: does not offer rand`)
    await ticking(C, 'survivor', 1n)
  })

  it('the cheapest refuses (NODE_FULL): placement falls back to the next, and the summary names the refusal by code', async () => {
    const { A, B, C } = await threeNodes(['--max-agents', '1', '--run-agent', agentPath('counter')])
    const { code, report } = await placeAuto(A)
    expect(code).toBe(0)
    expect(report.tried.map((t) => [t.peerId, t.outcome])).toEqual([[peerIdOf(B), 'refused'], [peerIdOf(C), 'placed']])
    expect(report.tried[0]?.attempts).toEqual([expect.objectContaining({ kind: 'refused', code: 'NODE_FULL' })])
    expect(report.summary).toBe(`placed survivor on ${peerIdOf(C)} (price 2000); passed over ${peerIdOf(B)}: refused (NODE_FULL); left out ${report.passedOver[0]?.peerId}: price 200000 above the agent's max_price_per_second 100000`)
    await ticking(C, 'survivor', 1n)
    // the refusal was definite: the agent ran on here until it went, and B still holds only its own agent
    expect((await B.agent('survivor'))).toBeUndefined()
  })

  it('the cheapest was killed: three attempts with backoff, then the next; the summary names the dead node', async () => {
    const { A, B, C } = await threeNodes()
    const dead = peerIdOf(B)
    await B.kill()
    const { code, report } = await placeAuto(A)
    expect(code).toBe(0)
    expect(report.placed?.target).toBe(peerIdOf(C))
    expect(report.tried[0]).toMatchObject({ peerId: dead, outcome: 'transient' })
    expect(report.tried[0]?.attempts.map((a) => a.code)).toEqual(['DIAL_FAILED', 'DIAL_FAILED', 'DIAL_FAILED'])
    expect(report.summary).toContain(`passed over ${dead}: unreachable (DIAL_FAILED ×3)`)
    await ticking(C, 'survivor', 1n)
    // failures demote it: the next placement leaves it out
    expect((await peersOf(A)).find((p) => p.peerId === dead)?.failures).toBeGreaterThanOrEqual(3)
  })

  it('text mode with the cheapest killed: progress lines on stderr name the retries, the summary on stdout names the dead node', async () => {
    const { A, B, C } = await threeNodes()
    const dead = peerIdOf(B)
    await B.kill()
    const result = await runCli(['migrate', 'survivor', '--to', 'auto', '--data-dir', A.dataDir], 120_000)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^placed survivor on ${peerIdOf(C)} \\(price 2000\\); passed over ${dead}: unreachable \\(DIAL_FAILED ×3\\)`))
    expect(result.stderr).toContain(`placing survivor: ${dead} unreachable (DIAL_FAILED)`)
    expect(result.stderr).toContain('retrying in 1000 ms')
  })

  it('--to <multiaddr> keeps working exactly as before', async () => {
    const { A, C } = await threeNodes()
    const result = await runCli(['migrate', 'survivor', '--to', C.address(), '--data-dir', A.dataDir])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^migrated survivor to ${peerIdOf(C)}: now at epoch \\(1,0\\)`))
  })
})
