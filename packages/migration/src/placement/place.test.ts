// SPEC §16 Placement: the loop with fake attempts — fallback, retries with backoff, stops.
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import type { PeerEntry } from '../peers/file.js'
import { placeAgent, type PlacementDeps, type PlacementEvent } from './place.js'
import { placementSummary, progressLine } from './summary.js'

const peer = (peerId: string, price: bigint | null, over: Partial<PeerEntry> = {}): PeerEntry => ({
  peerId, addresses: [`/ip4/127.0.0.1/tcp/1/p2p/${peerId}`, `/ip4/127.0.0.1/tcp/2/p2p/${peerId}`], price, capabilities: null, freeSlots: null, lastSeen: 1, failures: 0, lastFailure: 0, ...over
})
const refused = (code: string | null): MigrationError => new MigrationError('REJECTED', `refused: ${code ?? 'no code'}`, { refusal: code })

function setup(peers: PeerEntry[], behaviour: Record<string, Array<Error | 'ok'>>): { deps: PlacementDeps<string>, calls: string[], waits: number[], events: PlacementEvent[], scans: { n: number } } {
  const calls: string[] = []
  const waits: number[] = []
  const events: PlacementEvent[] = []
  const scans = { n: 0 }
  return {
    calls, waits, events, scans,
    deps: {
      selfPeerId: 'self',
      scan: async () => { scans.n++; await Promise.resolve() },
      peers: () => peers,
      attempt: async (peerId, address) => {
        await Promise.resolve()
        calls.push(`${peerId}@${address.split('/')[4]}`)
        const next = behaviour[peerId]?.shift() ?? 'ok'
        if (next !== 'ok') throw next
        return `on ${peerId}`
      },
      sleep: async (ms) => { waits.push(ms); await Promise.resolve() },
      onEvent: (e) => { events.push(e) }
    }
  }
}
const needs = { maxPricePerSecond: null, capabilities: [] }

describe('placeAgent', () => {
  it('scans first and picks the cheapest', async () => {
    const { deps, calls, scans } = setup([peer('dear', 300n), peer('cheap', 100n), peer('unknown', null), peer('tired', 1n, { failures: 3 })], {})
    const report = await placeAgent(deps, 'a', needs)
    expect(scans.n).toBe(1)
    expect(report.outcome).toBe('placed')
    expect(report.placed).toBe('on cheap')
    expect(calls).toEqual(['cheap@1'])
    expect(placementSummary(report)).toBe('placed a on cheap (price 100); left out tired: 3 recent failures')
  })

  it('a definite refusal moves to the next target at once, and the summary says why', async () => {
    const { deps, calls, waits } = setup([peer('cheap', 100n), peer('next', 200n)], { cheap: [refused('UNDECLARED_CAPABILITY')] })
    const report = await placeAgent(deps, 'a', needs)
    expect(calls).toEqual(['cheap@1', 'next@1'])
    expect(waits).toEqual([])
    expect(report.tried.map((t) => [t.peerId, t.outcome])).toEqual([['cheap', 'refused'], ['next', 'placed']])
    expect(placementSummary(report)).toBe('placed a on next (price 200); passed over cheap: refused (UNDECLARED_CAPABILITY)')
  })

  it('a transient failure retries the same target (addresses in turn) with 1 s, 2 s; 3 attempts, then the next', async () => {
    const dial = new MigrationError('DIAL_FAILED', 'connection refused')
    const { deps, calls, waits, events } = setup([peer('dead', 1n), peer('busy', 2n), peer('ok', 3n)], {
      dead: [dial, dial, dial],
      busy: [refused('TARGET_BUSY'), refused('RATE_LIMITED'), refused('NODE_FULL')]
    })
    const report = await placeAgent(deps, 'a', needs)
    expect(calls).toEqual(['dead@1', 'dead@2', 'dead@1', 'busy@1', 'busy@2', 'busy@1', 'ok@1'])
    expect(waits).toEqual([1000, 2000, 1000, 2000])
    expect(report.outcome).toBe('placed')
    expect(placementSummary(report)).toBe('placed a on ok (price 3); passed over dead: unreachable (DIAL_FAILED ×3), busy: refused (NODE_FULL)')
    expect(events.map((e) => progressLine('a', e))).toContain('placing a: dead unreachable (DIAL_FAILED): connection refused; retrying in 1000 ms')
  })

  it('an ambiguous outcome stops at once: nothing else is tried', async () => {
    const { deps, calls } = setup([peer('lost', 1n), peer('other', 2n)], { lost: [new MigrationError('OUTCOME_UNKNOWN', 'no reply')] })
    const report = await placeAgent(deps, 'a', needs)
    expect(calls).toEqual(['lost@1'])
    expect(report.outcome).toBe('ambiguous')
    expect(report.placed).toBeNull()
    expect(placementSummary(report)).toMatch(/^stopped: a is RECOVERY_REQUIRED .*; passed over lost: no answer after the package left \(OUTCOME_UNKNOWN\)$/)
  })

  it('a local failure stops; no candidate and every candidate passed over are reported', async () => {
    const halted = Object.assign(new Error('halted'), { code: 'AGENT_HALTED' })
    const local = setup([peer('x', 1n), peer('y', 2n)], { x: [halted] })
    expect((await placeAgent(local.deps, 'a', needs)).outcome).toBe('local')
    expect(local.calls).toEqual(['x@1'])

    const none = setup([peer('dear', 500n), peer('self', 1n)], {})
    const empty = await placeAgent(none.deps, 'a', { maxPricePerSecond: 100n, capabilities: [] })
    expect(empty.outcome).toBe('no-candidates')
    expect(placementSummary(empty)).toBe('not placed: a stays here; no candidate among 1 known peers (dear: price 500 above the agent\'s max_price_per_second 100)')

    const all = setup([peer('x', 1n)], { x: [refused(null)] })
    const exhausted = await placeAgent(all.deps, 'a', needs)
    expect(exhausted.outcome).toBe('exhausted')
    expect(placementSummary(exhausted)).toBe('not placed: a stays here; every candidate was passed over; passed over x: refused (REJECTED)')
  })

  it('a scan that throws does not stop placement', async () => {
    const { deps, calls } = setup([peer('x', 1n)], {})
    const report = await placeAgent({ ...deps, scan: async () => { await Promise.resolve(); throw new Error('no network') } }, 'a', needs)
    expect(report.outcome).toBe('placed')
    expect(calls).toEqual(['x@1'])
  })
})
