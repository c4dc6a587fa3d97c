// SPEC §16 / issue 21 item 5: the AutoPlacer's placements wait for a network that starts after the first ticks.
import { describe, expect, it } from 'vitest'
import { LateNetwork } from './late-network.js'
import type { NodeNetwork } from './network.js'

function fakeNetwork(placed: string[], scans: Array<() => void>): NodeNetwork {
  return {
    place: (agentId: string) => { placed.push(agentId); return Promise.resolve({ agentId, outcome: 'placed', placed: 'peer', tried: [], passedOver: [], summary: 'ok' }) },
    onPriceScan: (listener: () => void) => { scans.push(listener); return () => { scans.splice(scans.indexOf(listener), 1) } },
    stop: () => Promise.resolve()
  } as unknown as NodeNetwork
}

describe('LateNetwork', () => {
  it('holds a placement asked for before the network is up, and runs it once it is', async () => {
    const late = new LateNetwork()
    const placed: string[] = []
    const scans: Array<() => void> = []
    const view = late.forPlacer()
    const stopScan = view.onPriceScan(() => {})
    const placing = view.place('nomad', undefined, { needs: { maxPricePerSecond: null, capabilities: [] } })
    await new Promise((resolve) => setImmediate(resolve))
    expect(placed).toEqual([])
    late.up(fakeNetwork(placed, scans))
    await expect(placing).resolves.toMatchObject({ outcome: 'placed' })
    expect(placed).toEqual(['nomad'])
    expect(scans).toHaveLength(1) // the scan listener was handed over
    stopScan()
    expect(scans).toHaveLength(0)
  })

  it('fails waiting placements with a one-line reason when the network never comes up', async () => {
    const late = new LateNetwork()
    const placing = late.forPlacer().place('nomad', undefined, { needs: { maxPricePerSecond: null, capabilities: [] } })
    late.failed('the node is stopping')
    await expect(placing).rejects.toMatchObject({ code: 'NETWORK_NOT_UP', message: 'the network is not up: the node is stopping' })
  })

  it('stops at shutdown a network that started but was never handed over', async () => {
    const late = new LateNetwork()
    let stopped = 0
    const network: NodeNetwork = { ...fakeNetwork([], []), stop: () => { stopped++; return Promise.resolve() } }
    await late.stopIfStarted(null)
    late.starting = Promise.resolve(network)
    await late.stopIfStarted(network)
    expect(stopped).toBe(0)
    await late.stopIfStarted(null)
    expect(stopped).toBe(1)
    late.starting = Promise.resolve(new Error('cannot listen'))
    await late.stopIfStarted(null)
    expect(stopped).toBe(1)
  })
})
