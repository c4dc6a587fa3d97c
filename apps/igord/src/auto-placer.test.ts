// SPEC §16 AutoPlacer with a fake node: who is held, with which reason, what is placed with which needs,
// and when a requested move is settled.
import { type AgentHost, type NodeRuntime, silentLogger } from '@igor/runner'
import type { PlacementNeeds } from '@igor/migration'
import { describe, expect, it } from 'vitest'
import { AutoPlacer, PRICE_HOLD_NO_MIGRATION, PRICE_HOLD_REASON } from './auto-placer.js'
import type { PlacementJson } from './control/protocol.js'

const I64_MAX = (1n << 63n) - 1n

class FakeHost {
  priceHold: string | null = null
  movePending = false
  ticking = true
  settled = 0
  constructor(readonly agentId: string, enabled: boolean, max: bigint | null, capabilities: string[] = ['log']) {
    this.module = { manifest: { migration: { enabled, maxPricePerSecond: max }, capabilities: new Map(capabilities.map((c) => [c, { version: 1 }])) } }
  }

  readonly module: { manifest: { migration: { enabled: boolean, maxPricePerSecond: bigint | null }, capabilities: Map<string, { version: number }> } }
  holdForPrice(reason: string | null): void { this.priceHold = reason }
  moveSettled(): void { this.settled++; this.movePending = false }
}

function setup(hosts: FakeHost[], price: bigint, outcome = 'no-candidates'): { placer: AutoPlacer, runtime: { pricePerSecond: bigint }, placed: Array<[string, PlacementNeeds]>, outcomes: string[] } {
  const runtime = {
    pricePerSecond: price,
    agentIds: () => hosts.map((h) => h.agentId),
    host: (id: string) => hosts.find((h) => h.agentId === id) as unknown as AgentHost | undefined
  }
  const placed: Array<[string, PlacementNeeds]> = []
  const outcomes: string[] = []
  const placer = new AutoPlacer({
    runtime: runtime as unknown as NodeRuntime,
    log: silentLogger,
    onPriceScan: () => () => {},
    place: async (agentId, needs) => {
      placed.push([agentId, needs])
      await Promise.resolve()
      return { agentId, outcome, placed: null, tried: [], passedOver: [], summary: `${outcome} summary` } satisfies PlacementJson
    },
    onMoveRequest: (o) => { outcomes.push(`move:${o}`) },
    onPricePlacement: (o) => { outcomes.push(`price:${o}`) }
  })
  return { placer, runtime, placed, outcomes }
}

const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }

describe('AutoPlacer, moving for price (SPEC §16)', () => {
  it('holds only agents with a max > 0 below the price, places them within their max, and lets them go when the price drops', async () => {
    const over = new FakeHost('over', true, 100_000n, ['log', 'rand'])
    const at = new FakeHost('at', true, 200_000n)
    const uncapped = new FakeHost('uncapped', true, null)
    const zero = new FakeHost('zero', true, 0n)
    const stays = new FakeHost('stays', false, 100_000n)
    const { placer, runtime, placed, outcomes } = setup([over, at, uncapped, zero, stays], 200_000n)
    placer.priceChanged()
    expect([over, at, uncapped, zero, stays].map((h) => h.priceHold)).toEqual([PRICE_HOLD_REASON, null, null, null, PRICE_HOLD_NO_MIGRATION])
    await flush()
    expect(placed).toEqual([['over', { maxPricePerSecond: 100_000n, capabilities: ['log', 'rand'] }]])
    expect(outcomes).toEqual(['price:no-candidates'])
    expect(over.priceHold).toBe(PRICE_HOLD_REASON) // nobody took it: it waits
    placer.priceChanged() // a scan: placed again
    await flush()
    expect(placed).toHaveLength(2)
    runtime.pricePerSecond = 100_000n
    placer.priceChanged()
    expect([over.priceHold, stays.priceHold]).toEqual([null, null])
    expect(placed).toHaveLength(2)
  })

  it('an agent that cannot tick (halted, mid-hand-off) is left alone; the max i64 price is compared exactly', async () => {
    const halted = new FakeHost('halted', true, 1000n)
    halted.ticking = false
    const top = new FakeHost('top', true, I64_MAX)
    const { placer, placed } = setup([halted, top], I64_MAX)
    placer.priceChanged()
    await flush()
    expect([halted.priceHold, top.priceHold]).toEqual([null, null])
    expect(placed).toEqual([])
  })
})

describe('AutoPlacer, request_move (SPEC §16)', () => {
  it('places among peers below this node\'s price and within both maxima; settles when the agent stays', async () => {
    const nomad = new FakeHost('nomad', true, 100_000n, ['pricing', 'mobility', 'log'])
    nomad.movePending = true
    const { placer, placed, outcomes } = setup([nomad], 5000n)
    await placer.moveRequested('nomad', 2000n)
    expect(placed).toEqual([['nomad', { maxPricePerSecond: 2000n, capabilities: ['pricing', 'mobility', 'log'], priceBelow: 5000n }]])
    expect(outcomes).toEqual(['move:no-candidates'])
    expect(nomad.settled).toBe(1)
    // A max of 0 (or below) leaves the manifest's cap; a node at price 0 has nobody cheaper.
    await placer.moveRequested('nomad', 0n)
    expect(placed[1]?.[1]).toEqual({ maxPricePerSecond: 100_000n, capabilities: ['pricing', 'mobility', 'log'], priceBelow: 5000n })
    expect(nomad.settled).toBe(2)
  })

  it('a node at price 0 has nobody cheaper: no placement, the outcome says so, the request is settled', async () => {
    const nomad = new FakeHost('nomad', true, null)
    const { placer, placed, outcomes } = setup([nomad], 0n)
    await placer.moveRequested('nomad', I64_MAX)
    expect(placed).toEqual([])
    expect(outcomes).toEqual(['move:no-candidates'])
    expect(nomad.settled).toBe(1)
  })

  it('placed: not settled (the agent is gone); a request during a placement for price answers busy', async () => {
    const nomad = new FakeHost('nomad', true, 100n)
    const { placer, outcomes } = setup([nomad], 5000n, 'placed')
    await placer.moveRequested('nomad', 50n)
    expect(outcomes).toEqual(['move:placed'])
    expect(nomad.settled).toBe(0)
    placer.priceChanged() // 5000 > 100: held and being placed
    await placer.moveRequested('nomad', 50n)
    expect(outcomes).toContain('move:busy')
  })
})
