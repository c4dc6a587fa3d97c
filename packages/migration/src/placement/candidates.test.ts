// SPEC §16 Placement: the candidate filter and sort, unknowns included.
import { describe, expect, it } from 'vitest'
import type { PeerEntry } from '../peers/file.js'
import { selectCandidates } from './candidates.js'

const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n
const peer = (peerId: string, over: Partial<PeerEntry> = {}): PeerEntry => ({
  peerId, addresses: [`/ip4/127.0.0.1/tcp/1/p2p/${peerId}`], price: null, capabilities: null, freeSlots: null, lastSeen: 1000, failures: 0, lastFailure: 0, ...over
})
const ids = (list: readonly PeerEntry[]): string[] => list.map((p) => p.peerId)
const none = { maxPricePerSecond: null, capabilities: [] }

describe('selectCandidates', () => {
  it('sorts by price (unknown last), then failures, then most recently seen, then peer id', () => {
    const peers = [
      peer('unknown-old', { lastSeen: 1 }),
      peer('p300'),
      peer('p100-fail2', { price: 100n, failures: 2 }),
      peer('p100-seen5', { price: 100n, lastSeen: 5 }),
      peer('p100-seen9', { price: 100n, lastSeen: 9 }),
      peer('p0', { price: 0n }),
      peer('unknown-new', { lastSeen: 50 }),
      peer('max', { price: U64_MAX }),
      peer('b-tie', { price: 7n }),
      peer('a-tie', { price: 7n })
    ].map((p) => p.peerId === 'p300' ? { ...p, price: 300n } : p)
    expect(ids(selectCandidates(peers, none, 'self').candidates)).toEqual([
      'p0', 'a-tie', 'b-tie', 'p100-seen9', 'p100-seen5', 'p100-fail2', 'p300', 'max', 'unknown-new', 'unknown-old'
    ])
  })

  it('known price above a cap > 0 is passed over; unknown price passes; cap 0 or null is no cap', () => {
    const peers = [peer('cheap', { price: 1000n }), peer('at', { price: 2n ** 53n + 1n }), peer('dear', { price: 2n ** 53n + 2n }), peer('unknown')]
    const capped = selectCandidates(peers, { maxPricePerSecond: 2n ** 53n + 1n, capabilities: [] }, 'self')
    expect(ids(capped.candidates)).toEqual(['cheap', 'at', 'unknown'])
    expect(capped.passedOver).toEqual([{ peerId: 'dear', reason: 'price 9007199254740994 above the agent\'s max_price_per_second 9007199254740993' }])
    for (const cap of [0n, null]) expect(ids(selectCandidates(peers, { maxPricePerSecond: cap, capabilities: [] }, 'self').candidates)).toHaveLength(4)
    expect(ids(selectCandidates([peer('max', { price: U64_MAX })], { maxPricePerSecond: I64_MAX, capabilities: [] }, 'self').candidates)).toEqual([])
    expect(ids(selectCandidates([peer('top', { price: I64_MAX })], { maxPricePerSecond: I64_MAX, capabilities: [] }, 'self').candidates)).toEqual(['top'])
  })

  it('every declared capability must be offered; unknown capabilities pass', () => {
    const peers = [peer('all', { capabilities: ['clock', 'rand', 'log', 'http'] }), peer('some', { capabilities: ['clock'] }), peer('unknown'), peer('empty', { capabilities: [] })]
    const chosen = selectCandidates(peers, { maxPricePerSecond: null, capabilities: ['clock', 'http'] }, 'self')
    expect(ids(chosen.candidates)).toEqual(['all', 'unknown'])
    expect(chosen.passedOver).toEqual([{ peerId: 'some', reason: 'does not offer http' }, { peerId: 'empty', reason: 'does not offer clock, http' }])
    expect(ids(selectCandidates(peers, none, 'self').candidates)).toHaveLength(4)
  })

  it('3 or more recent failures, this node and peers with no address are left out', () => {
    const peers = [peer('f2', { failures: 2 }), peer('f3', { failures: 3 }), peer('self'), peer('nowhere', { addresses: [] })]
    const chosen = selectCandidates(peers, none, 'self')
    expect(ids(chosen.candidates)).toEqual(['f2'])
    expect(chosen.passedOver).toEqual([{ peerId: 'f3', reason: '3 recent failures' }, { peerId: 'nowhere', reason: 'no known address' }])
  })

  it('priceBelow (request_move): only known prices strictly below it pass, with the manifest cap still applied', () => {
    const peers = [peer('cheap', { price: 499n }), peer('same', { price: 500n }), peer('unknown'), peer('zero', { price: 0n }), peer('capped', { price: 300n })]
    const chosen = selectCandidates(peers, { maxPricePerSecond: 400n, capabilities: [], priceBelow: 500n }, 'self')
    expect(ids(chosen.candidates)).toEqual(['zero', 'capped'])
    expect(chosen.passedOver).toEqual([
      { peerId: 'cheap', reason: 'price 499 above the agent\'s max_price_per_second 400' },
      { peerId: 'same', reason: 'price 500 above the agent\'s max_price_per_second 400' },
      { peerId: 'unknown', reason: 'price unknown (a requested move needs a cheaper node)' }
    ])
    expect(selectCandidates(peers, { maxPricePerSecond: null, capabilities: [], priceBelow: 500n }, 'self').passedOver)
      .toContainEqual({ peerId: 'same', reason: 'price 500 not below this node\'s 500' })
    expect(ids(selectCandidates([peer('top', { price: I64_MAX - 1n }), peer('max', { price: I64_MAX })], { maxPricePerSecond: null, capabilities: [], priceBelow: I64_MAX }, 'self').candidates)).toEqual(['top'])
    expect(selectCandidates([peer('zero', { price: 0n })], { maxPricePerSecond: null, capabilities: [], priceBelow: 0n }, 'self').candidates).toEqual([])
  })

  it('free slots do not filter (the target\'s NODE_FULL does)', () => {
    expect(ids(selectCandidates([peer('full', { freeSlots: 0 })], none, 'self').candidates)).toEqual(['full'])
  })
})
