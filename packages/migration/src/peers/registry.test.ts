// SPEC §16 Peers: the registry's bounds, persistence and old-file migration.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PeerRegistry, readPeersFile } from './registry.js'
import { decodePeersFile, encodePeersFile, splitPeerAddress } from './file.js'

// Real Ed25519 peer ids (libp2p text form).
const A = '12D3KooWGzBz4BUQXCWkV9J2UKfbVkbPLSBJwNqZ5dQRvmGwgk9V'
const B = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const C = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const addr = (port: number, id: string): string => `/ip4/127.0.0.1/tcp/${port}/p2p/${id}`
const U64_MAX = (1n << 64n) - 1n

const logs: string[] = []
const logger = {
  info: () => undefined, debug: () => undefined, error: () => undefined,
  warn: (_fields: object, message: string) => { logs.push(message) },
  child: () => logger
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'igor-peers-'))
  logs.length = 0
})
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const open = async (options: Parameters<typeof PeerRegistry.open>[1] = {}): Promise<PeerRegistry> =>
  await PeerRegistry.open(dir, { logger: logger, ...options })

describe('PeerRegistry', () => {
  it('round-trips every field through peers.json, prices exact at 0, 2^53+1, 2^63-1 and 2^64-1', async () => {
    const prices = [0n, (1n << 53n) + 1n, (1n << 63n) - 1n, U64_MAX]
    const ids = [A, B, C, '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq']
    let t = 1_000
    const reg = await open({ now: () => t })
    ids.forEach((id, i) => {
      t += 10
      reg.recordContact(id, [addr(4000 + i, id)])
      reg.update(id, { price: prices[i] as bigint, capabilities: ['clock', 'x402'], freeSlots: i })
    })
    reg.recordFailure(B)
    await reg.flush()
    const text = await readFile(join(dir, 'peers.json'), 'utf8')
    expect(text).toContain('"18446744073709551615"')
    const again = await open({ now: () => t })
    expect(again.list()).toEqual(reg.list())
    expect(again.get(ids[3] as string)?.price).toBe(U64_MAX)
    expect(again.get(ids[1] as string)?.price).toBe((1n << 53n) + 1n)
    expect(again.get(B)?.failures).toBe(1)
    expect(again.get(A)?.capabilities).toEqual(['clock', 'x402'])
  })

  it('keeps at most maxPeers, evicting the least recently seen, never a --peer one', async () => {
    let t = 0
    const reg = await open({ maxPeers: 2, configured: [addr(1, A)], now: () => ++t })
    reg.recordContact(B, [addr(2, B)])
    reg.recordContact(C, [addr(3, C)]) // B is the least recently seen unpinned peer
    expect(reg.list().map((e) => e.peerId).sort()).toEqual([A, C].sort())
    reg.recordContact(B, [addr(2, B)]) // C goes now; A (never seen, but --peer) stays
    expect(reg.has(A)).toBe(true)
    expect(reg.has(C)).toBe(false)
  })

  it('keeps at most maxAddresses per peer, newest first, normalising the /p2p/ tail', async () => {
    const reg = await open({ maxAddresses: 2 })
    reg.recordContact(A, [addr(1, A)])
    reg.recordContact(A, ['/ip4/127.0.0.1/tcp/2'])
    reg.recordContact(A, [addr(3, A), addr(2, B)]) // another peer's address is ignored
    expect(reg.addressesOf(A)).toEqual([addr(3, A), addr(2, A)])
  })

  it('an answer over a stale address marks the peer seen but does not put that address ahead of the one identify gave', async () => {
    let t = 5
    const reg = await open({ maxAddresses: 3, now: () => t })
    reg.recordContact(A, [addr(1, A)])
    reg.recordContact(A, [addr(2, A)]) // identify: the peer now listens on 2
    t = 9
    reg.recordAnswer(A, addr(1, A)) // libp2p reused the connection from 2
    expect(reg.addressesOf(A)).toEqual([addr(2, A), addr(1, A)])
    expect(reg.get(A)?.lastSeen).toBe(9)
    reg.recordAnswer(A, addr(7, A)) // a new address is kept, last
    expect(reg.addressesOf(A)).toEqual([addr(2, A), addr(1, A), addr(7, A)])
    reg.recordAnswer(A, addr(8, A)) // full: not kept
    expect(reg.addressesOf(A)).toEqual([addr(2, A), addr(1, A), addr(7, A)])
    reg.recordAnswer(B, addr(3, B)) // an unknown peer that answered is known from now on
    expect(reg.addressesOf(B)).toEqual([addr(3, B)])
  })

  it('counts failures until a success, and forgets them after the window', async () => {
    let t = 0
    const reg = await open({ failureWindowMs: 100, now: () => t })
    reg.recordContact(A, [addr(1, A)])
    reg.recordFailure(A)
    reg.recordFailure(A)
    expect(reg.get(A)?.failures).toBe(2)
    reg.recordSuccess(A)
    expect(reg.get(A)?.failures).toBe(0)
    reg.recordFailure(A)
    t = 101
    expect(reg.get(A)?.failures).toBe(0)
    reg.recordFailure(A)
    expect(reg.get(A)?.failures).toBe(1)
    reg.recordFailure(C) // unknown: ignored, not added
    expect(reg.has(C)).toBe(false)
  })

  it('update() applies only to known peers and refuses a price outside u64', async () => {
    const reg = await open()
    expect(reg.update(A, { price: 5n })).toBe(false)
    reg.remember(A, [addr(1, A)])
    expect(reg.get(A)?.lastSeen).toBe(0)
    expect(reg.update(A, { price: 5n })).toBe(true)
    expect(reg.update(A, { freeSlots: 3 })).toBe(true)
    expect(reg.get(A)).toMatchObject({ price: 5n, freeSlots: 3, capabilities: null })
    expect(() => reg.update(A, { price: U64_MAX + 1n })).toThrow(expect.objectContaining({ code: 'BAD_PEER_FACTS' }))
    expect(() => reg.update(A, { price: -1n })).toThrow(expect.objectContaining({ code: 'BAD_PEER_FACTS' }))
    expect(() => reg.update(A, { freeSlots: -1 })).toThrow(expect.objectContaining({ code: 'BAD_PEER_FACTS' }))
    expect(() => reg.update(A, { price: 9n, freeSlots: 1.5 })).toThrow(expect.objectContaining({ code: 'BAD_PEER_FACTS' }))
    expect(reg.get(A)).toMatchObject({ price: 5n, freeSlots: 3 }) // a refused update changes nothing
  })

  it('a corrupt file is logged and set aside, and the registry starts empty', async () => {
    await writeFile(join(dir, 'peers.json'), '{"version":2,"peers":[{"peerId":')
    const reg = await open()
    expect(reg.list()).toEqual([])
    expect(logs.some((l) => /corrupt/.test(l))).toBe(true)
    expect(await readdir(dir)).toContain('peers.json.corrupt')
    reg.recordContact(A, [addr(1, A)])
    await reg.flush()
    expect((await readPeersFile(dir)).map((e) => e.peerId)).toEqual([A])
  })

  it('refuses a bad field (price past u64, foreign address) as corrupt', () => {
    const good = JSON.parse(encodePeersFile([{ peerId: A, addresses: [addr(1, A)], price: 1n, capabilities: null, freeSlots: null, lastSeen: 1, failures: 0, lastFailure: 0 }])) as { peers: Array<Record<string, unknown>> }
    const bad = (patch: Record<string, unknown>): string => JSON.stringify({ version: 2, peers: [{ ...good.peers[0], ...patch }] })
    expect(() => decodePeersFile(bad({ price: '18446744073709551616' }))).toThrow(/price/)
    expect(() => decodePeersFile(bad({ price: 5 }))).toThrow(/price/)
    expect(() => decodePeersFile(bad({ addresses: [addr(1, B)] }))).toThrow(/addresses/)
    expect(() => decodePeersFile(bad({ lastSeen: -1 }))).toThrow(/lastSeen/)
    expect(() => decodePeersFile(JSON.stringify({ version: 3, peers: [] }))).toThrow(/version/)
  })

  it('reads the old peer book ({"peers": [addr…]}), groups it by peer and rewrites it as version 2', async () => {
    await writeFile(join(dir, 'peers.json'), JSON.stringify({ peers: [addr(1, A), addr(2, B), addr(3, A), '/ip4/1.2.3.4/tcp/5', 7] }))
    const reg = await open()
    expect(reg.addressesOf(A)).toEqual([addr(3, A), addr(1, A)])
    expect(reg.addressesOf(B)).toEqual([addr(2, B)])
    expect(logs.some((l) => /dropped/.test(l))).toBe(true)
    await reg.flush()
    const json = JSON.parse(await readFile(join(dir, 'peers.json'), 'utf8')) as { version: number }
    expect(json.version).toBe(2)
  })

  it('refuses a --peer without /p2p/<peerId> with a one-line reason', async () => {
    await expect(open({ configured: ['/ip4/127.0.0.1/tcp/1'] })).rejects.toMatchObject({ code: 'BAD_PEER_ADDRESS' })
  })

  it('splitPeerAddress normalises and rejects', () => {
    expect(splitPeerAddress(addr(1, A))).toEqual({ peerId: A, address: addr(1, A) })
    expect(splitPeerAddress('/ip4/127.0.0.1/tcp/1')).toBeNull()
    expect(splitPeerAddress('nonsense')).toBeNull()
  })
})
