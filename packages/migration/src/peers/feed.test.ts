// SPEC §16 Peers: identify tells the registry a known peer's current address; strangers are not added.
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '@igor/runner'
import { announceAddresses } from '../net/addresses.js'
import { createIgorLibp2p } from '../net/libp2p-node.js'
import { feedRegistry } from './feed.js'
import { PeerRegistry } from './registry.js'

const started: Libp2p[] = []
afterEach(async () => { await Promise.all(started.splice(0).map(async (n) => n.stop())) })

async function node(): Promise<Libp2p> {
  const n = await createIgorLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  started.push(n)
  return n
}

async function until<T>(check: () => T | null | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== null && value !== undefined) return value
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('feedRegistry', () => {
  it('a known peer that dials in with a new address is found again; an unknown one is not added', async () => {
    const a = await node()
    const b = await node()
    const stranger = await node()
    const registry = await PeerRegistry.open(null)
    const bId = b.peerId.toString()
    registry.remember(bId, [`/ip4/127.0.0.1/tcp/1/p2p/${bId}`]) // where B used to listen
    const unfeed = feedRegistry(a, registry, silentLogger)
    try {
      const aAddress = multiaddr(announceAddresses(a)[0])
      const strangerIdentified = new Promise<void>((resolve) => {
        a.addEventListener('peer:identify', (event) => { if (event.detail.peerId.equals(stranger.peerId)) resolve() })
      })
      await b.dial(aAddress)
      await stranger.dial(aAddress)
      await strangerIdentified
      const current = announceAddresses(b)[0] as string
      const entry = await until(() => { const e = registry.get(bId); return e?.addresses[0] === current ? e : null })
      expect(entry.addresses).toEqual([current, `/ip4/127.0.0.1/tcp/1/p2p/${bId}`])
      expect(entry.lastSeen).toBeGreaterThan(0)
      expect(registry.has(stranger.peerId.toString())).toBe(false)
    } finally {
      unfeed()
    }
  })
})
