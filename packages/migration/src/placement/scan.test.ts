// SPEC §16 price scan: facts into the registry, failures counted, bounded concurrency, coalescing.
import type { Libp2p } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import { PeerRegistry } from '../peers/registry.js'
import type { PriceAnswer } from '../price/wire.js'
import { PriceScanner, freeSlotsOf } from './scan.js'

const A = '12D3KooWGzBz4BUQXCWkV9J2UKfbVkbPLSBJwNqZ5dQRvmGwgk9V'
const B = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const C = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const SELF = '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV'
const addr = (port: number, id: string): string => `/ip4/127.0.0.1/tcp/${port}/p2p/${id}`
const I64_MAX = (1n << 63n) - 1n
const node = { peerId: { toString: () => SELF } } as unknown as Libp2p

async function registry(...addrs: string[]): Promise<PeerRegistry> {
  return await PeerRegistry.open(null, { configured: addrs })
}

describe('PriceScanner', () => {
  it('writes price (exact), capabilities and free slots; a silent peer gets a failure; a later answer clears it', async () => {
    const reg = await registry(addr(1, A), addr(2, B), addr(3, SELF))
    let bSilent = true
    const asked: string[] = []
    const scanner = new PriceScanner({
      node,
      registry: reg,
      ask: async (address) => {
        await Promise.resolve()
        asked.push(address)
        if (address.endsWith(A)) return { pricePerSecond: I64_MAX, nodeId: A, capabilities: ['clock'], agents: 3, maxAgents: 5 }
        if (bSilent) throw new MigrationError('TRANSFER_TIMEOUT', 'no answer')
        return { pricePerSecond: 0n, nodeId: B }
      }
    })
    const first = await scanner.scan()
    expect(asked.sort()).toEqual([addr(1, A), addr(2, B)].sort()) // never this node
    expect(first.find((o) => o.peerId === B)?.code).toBe('TRANSFER_TIMEOUT')
    expect(reg.get(A)).toMatchObject({ price: I64_MAX, capabilities: ['clock'], freeSlots: 2, failures: 0 })
    expect(reg.get(A)!.lastSeen).toBeGreaterThan(0)
    expect(reg.get(B)).toMatchObject({ price: null, failures: 1 })
    bSilent = false
    await new Promise((resolve) => setTimeout(resolve, 2100)) // past the reuse window
    await scanner.scan()
    expect(reg.get(B)).toMatchObject({ price: 0n, capabilities: null, freeSlots: null, failures: 0 })
  })

  it('tells its listeners after every scan that ran, not after a reused one; a throwing listener is ignored', async () => {
    const reg = await registry(addr(1, A))
    const scanner = new PriceScanner({ node, registry: reg, ask: async () => await Promise.resolve({ pricePerSecond: 5n, nodeId: A }) })
    const heard: number[] = []
    scanner.onScanned(() => { throw new Error('listener bug') })
    const off = scanner.onScanned((outcomes) => { heard.push(outcomes.length) })
    await scanner.scan()
    await scanner.scan() // reused within SCAN_REUSE_MS: no new scan
    expect(heard).toEqual([1])
    off()
    await new Promise((resolve) => setTimeout(resolve, 2100))
    await scanner.scan()
    expect(heard).toEqual([1])
  })

  it('a hand-off failure is not cleared by a scan answer; RATE_LIMITED is no failure', async () => {
    const reg = await registry(addr(1, A), addr(2, C))
    const scanner = new PriceScanner({
      node,
      registry: reg,
      ask: async (address) => {
        await Promise.resolve()
        if (address.endsWith(C)) throw new MigrationError('RATE_LIMITED', 'slow down')
        return { pricePerSecond: 5n, nodeId: A }
      }
    })
    reg.recordFailure(A)
    reg.recordFailure(A)
    scanner.handoffRecorded(A)
    await scanner.scan()
    expect(reg.get(A)).toMatchObject({ price: 5n, failures: 2 })
    expect(reg.get(C)).toMatchObject({ failures: 0 })
  })

  it('tries the next address only after a dial failure, within one budget', async () => {
    const reg = await registry(addr(1, A))
    reg.recordContact(A, [addr(9, A)]) // newest first: 9, then 1
    const asked: string[] = []
    const scanner = new PriceScanner({
      node,
      registry: reg,
      ask: async (address) => {
        await Promise.resolve()
        asked.push(address)
        if (address === addr(9, A)) throw new MigrationError('DIAL_FAILED', 'refused')
        return { pricePerSecond: 7n, nodeId: A }
      }
    })
    await scanner.scan()
    expect(asked).toEqual([addr(9, A), addr(1, A)])
    expect(reg.addressesOf(A)[0]).toBe(addr(1, A))
    expect(reg.get(A)?.price).toBe(7n)
  })

  it('asks at most `concurrency` peers at once and shares a scan under way', async () => {
    const ids = [A, B, C]
    const reg = await registry(...ids.map((id, i) => addr(10 + i, id)))
    let active = 0
    let most = 0
    let asks = 0
    const scanner = new PriceScanner({
      node,
      registry: reg,
      concurrency: 2,
      ask: async (address): Promise<PriceAnswer> => {
        asks++
        active++
        most = Math.max(most, active)
        await new Promise((resolve) => setTimeout(resolve, 20))
        active--
        return { pricePerSecond: 1n, nodeId: address.split('/p2p/')[1] as string }
      }
    })
    const [one, two] = await Promise.all([scanner.scan(), scanner.scan()])
    expect(one).toBe(two)
    expect(asks).toBe(3)
    expect(most).toBe(2)
    await scanner.scan() // a moment old: reused
    expect(asks).toBe(3)
  })

  it('free slots: max_agents − agents, null with no cap or when not said', () => {
    expect(freeSlotsOf({ agents: 3, maxAgents: 5 })).toBe(2)
    expect(freeSlotsOf({ agents: 9, maxAgents: 5 })).toBe(0)
    expect(freeSlotsOf({ agents: 3, maxAgents: 0 })).toBeNull()
    expect(freeSlotsOf({})).toBeNull()
  })
})
