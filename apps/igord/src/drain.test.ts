// SPEC §16 Drain: the node side with a stand-in runtime and network — a few at a time, who stays and why, the time allowed.
import type { NodeRuntime } from '@igor/runner'
import { silentLogger } from '@igor/runner'
import { describe, expect, it } from 'vitest'
import type { PlacementJson } from './control/protocol.js'
import { Drain, DrainRequestError, parseDrainRequest } from './drain.js'
import type { NodeNetwork } from './network.js'

interface Row { agentId: string, state: string, halted: string | null, movedTo?: string }

function fakeRuntime(rows: Row[]): { runtime: NodeRuntime, draining: () => boolean } {
  let draining = false
  const runtime = {
    startDraining: () => { draining = true },
    status: async () => { await Promise.resolve(); return rows.map((r) => ({ ...r })) },
    host: (agentId: string) => {
      const row = rows.find((r) => r.agentId === agentId)
      return row === undefined || row.state === 'RETIRED' ? undefined : { status: () => ({ state: row.state }) }
    }
  }
  return { runtime: runtime as unknown as NodeRuntime, draining: () => draining }
}

function placement(agentId: string, outcome: string, summary: string, target = 'peerB'): PlacementJson {
  return { agentId, outcome, placed: outcome === 'placed' ? { agentId, target, majorVersion: '1', leaseGeneration: '0' } : null, tried: [], passedOver: [], summary }
}

function fakeNetwork(place: (agentId: string) => Promise<PlacementJson>, migrate?: (agentId: string, to: string) => Promise<{ target: string }>): NodeNetwork {
  return {
    place: async (agentId: string, onLine?: (line: string) => void) => { onLine?.(`placing ${agentId}`); return await place(agentId) },
    migrate: async (agentId: string, to: string) => {
      if (migrate === undefined) throw new Error('no migrate')
      return { agentId, majorVersion: '1', leaseGeneration: '0', ...(await migrate(agentId, to)) }
    }
  } as unknown as NodeNetwork
}

const unused = async (): Promise<never> => { await Promise.resolve(); throw new Error('unused') }
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const owners = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ agentId: `a${i}`, state: 'ACTIVE_OWNER', halted: null }))

describe('Drain (SPEC §16)', () => {
  it('refuses arrivals first, then places every owner at most `concurrency` at a time; all moved: drained', async () => {
    const { runtime, draining } = fakeRuntime(owners(10))
    let inFlight = 0
    let most = 0
    const network = fakeNetwork(async (agentId) => {
      expect(draining()).toBe(true)
      inFlight++
      most = Math.max(most, inFlight)
      await sleep(10)
      inFlight--
      return placement(agentId, 'placed', `placed ${agentId} on peerB (price 1)`)
    })
    const drain = new Drain({ runtime, network, log: silentLogger }, { to: 'auto', concurrency: 3, timeoutMs: 60_000 })
    const report = await drain.run()
    expect(most).toBe(3)
    expect(report).toMatchObject({ outcome: 'drained', to: 'auto', total: 10, stayed: [] })
    expect(report.moved.map((m) => m.agentId).sort()).toEqual(owners(10).map((r) => r.agentId).sort())
    expect(drain.status()).toMatchObject({ total: 10, moved: 10, stayed: 0, pending: 0 })
    expect(drain.lines[0]).toBe('draining: 10 agent(s) here, 10 to move (to auto, 3 at a time); arrivals are refused')
    expect(drain.lines).toContain('placing a0')
    expect(drain.lines[drain.lines.length - 1]).toMatch(/^drained: 10 agent\(s\) moved in \d+\.\d s; the node stops$/)
  })

  it('lists who stayed and why: not an owner, halted, no candidate, ambiguous (RECOVERY_REQUIRED); tombstones are not counted; one that left meanwhile counts as moved', async () => {
    const rows: Row[] = [
      { agentId: 'gone', state: 'RETIRED', halted: null, movedTo: 'peerX' },
      { agentId: 'stuck', state: 'RECOVERY_REQUIRED', halted: 'lease expired' },
      { agentId: 'broke', state: 'ACTIVE_OWNER', halted: 'budget exhausted' },
      { agentId: 'lonely', state: 'ACTIVE_OWNER', halted: null },
      { agentId: 'lost', state: 'ACTIVE_OWNER', halted: null },
      { agentId: 'fine', state: 'ACTIVE_OWNER', halted: null },
      { agentId: 'raced', state: 'ACTIVE_OWNER', halted: null }
    ]
    const { runtime } = fakeRuntime(rows)
    const network = fakeNetwork(async (agentId) => {
      await Promise.resolve()
      if (agentId === 'lonely') return placement(agentId, 'no-candidates', 'not placed: lonely stays here; no candidate among 0 known peers')
      if (agentId === 'raced') {
        Object.assign(rows.find((r) => r.agentId === 'raced') as Row, { state: 'RETIRED', movedTo: 'peerZ' })
        return placement(agentId, 'local', 'not placed: raced could not be handed off from this node')
      }
      if (agentId === 'lost') {
        (rows.find((r) => r.agentId === 'lost') as Row).state = 'RECOVERY_REQUIRED'
        return placement(agentId, 'ambiguous', 'stopped: lost is RECOVERY_REQUIRED (the package left, no answer came); assisted recovery takes over')
      }
      return placement(agentId, 'placed', 'placed')
    })
    const report = await new Drain({ runtime, network, log: silentLogger }, { to: 'auto', concurrency: 4, timeoutMs: 60_000 }).run()
    expect(report.outcome).toBe('stayed')
    expect(report.total).toBe(6)
    expect(report.moved).toEqual([{ agentId: 'fine', to: 'peerB' }, { agentId: 'raced', to: 'peerZ' }]) // moved by another command meanwhile
    expect(Object.fromEntries(report.stayed.map((s) => [s.agentId, s.reason]))).toEqual({
      stuck: 'RECOVERY_REQUIRED (lease expired): its authority is ambiguous; igord recover settles it',
      broke: 'halted (budget exhausted); it cannot be migrated',
      lonely: 'no candidate among 0 known peers',
      lost: 'stopped: lost is RECOVERY_REQUIRED (the package left, no answer came); assisted recovery takes over'
    })
  })

  it('to an address: one plain hand-off each; a failure stays with its one-line reason, RECOVERY_REQUIRED named first', async () => {
    const rows = owners(3)
    const { runtime } = fakeRuntime(rows)
    const network = fakeNetwork(unused, async (agentId, to) => {
      await Promise.resolve()
      expect(to).toBe('/ip4/127.0.0.1/tcp/1/p2p/peerC')
      if (agentId === 'a1') throw Object.assign(new Error('target refused a1: full\nsecond line'), { code: 'REJECTED' })
      if (agentId === 'a2') {
        (rows[2] as Row).state = 'RECOVERY_REQUIRED'
        throw new Error('hand-off to peerC got no usable reply')
      }
      return { target: 'peerC' }
    })
    const report = await new Drain({ runtime, network, log: silentLogger }, { to: '/ip4/127.0.0.1/tcp/1/p2p/peerC', concurrency: 1, timeoutMs: 60_000 }).run()
    expect(report.moved).toEqual([{ agentId: 'a0', to: 'peerC' }])
    expect(report.stayed).toEqual([
      { agentId: 'a1', reason: 'target refused a1: full' },
      { agentId: 'a2', reason: 'RECOVERY_REQUIRED (assisted recovery settles it): hand-off to peerC got no usable reply' }
    ])
  })

  it('no placement starts after the time allowed: the rest stay, "not tried"', async () => {
    const { runtime } = fakeRuntime(owners(4))
    const network = fakeNetwork(async (agentId) => { await sleep(30); return placement(agentId, 'placed', 'placed') })
    const report = await new Drain({ runtime, network, log: silentLogger }, { to: 'auto', concurrency: 1, timeoutMs: 10 }).run()
    expect(report.moved).toEqual([{ agentId: 'a0', to: 'peerB' }])
    expect(report.stayed.map((s) => s.reason)).toEqual(Array(3).fill('not tried: the time allowed (--timeout) passed first'))
  })

  it('an empty node is drained at once', async () => {
    const { runtime } = fakeRuntime([])
    const report = await new Drain({ runtime, network: fakeNetwork(unused), log: silentLogger }, { to: 'auto', concurrency: 4, timeoutMs: 1000 }).run()
    expect(report).toMatchObject({ outcome: 'drained', total: 0, moved: [], stayed: [] })
  })

  it('parseDrainRequest: defaults and one-line refusals', () => {
    expect(parseDrainRequest({ timeoutMs: 5 })).toEqual({ to: 'auto', concurrency: 4, timeoutMs: 5 })
    expect(() => parseDrainRequest({ timeoutMs: 5, concurrency: 0 })).toThrow(DrainRequestError)
    expect(() => parseDrainRequest({ timeoutMs: 5, concurrency: 65 })).toThrow('drain "concurrency" must be a whole number from 1 to 64')
    expect(() => parseDrainRequest({ timeoutMs: 0 })).toThrow('drain needs "timeoutMs"')
    expect(() => parseDrainRequest({ to: 7, timeoutMs: 5 })).toThrow('drain needs "to"')
    expect(() => parseDrainRequest(null)).toThrow('drain needs "timeoutMs"')
  })
})
