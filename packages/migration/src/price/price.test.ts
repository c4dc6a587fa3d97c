// SPEC §15 `/igor/price/1.0.0`: the codec (the reference's exact bytes, exact integers, hostile
// input), the per-peer window, and the handler and `askPrice` over real libp2p on loopback.
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@igor/runner'
import { createIgorLibp2p } from '../net/libp2p-node.js'
import { announceAddresses } from '../net/addresses.js'
import { openStream } from '../net/dial.js'
import { asyncRefusal, refusal } from '../test-support.js'
import { createPriceHandler, MAX_PRICE_QUERY_BYTES } from './handler.js'
import { askPrice } from './query.js'
import { PriceRateLimiter } from './rate-limit.js'
import { PRICE_PROTOCOL, decodePriceAnswer, decodePriceQuery, encodePriceAnswer, encodePriceQuery, encodePriceRefusal } from './wire.js'

const I64_MAX = (1n << 63n) - 1n
const enc = new TextEncoder()
const dec = new TextDecoder()
const text = (bytes: Uint8Array): string => dec.decode(bytes)

describe('/igor/price/1.0.0 messages', () => {
  it('a question is `{}` or `{"agent_id":…}` and a newline, as the reference writes it', () => {
    expect(text(encodePriceQuery())).toBe('{}\n')
    expect(text(encodePriceQuery({ agentId: 'survivor' }))).toBe('{"agent_id":"survivor"}\n')
    expect(decodePriceQuery(enc.encode('{}'))).toEqual({})
    expect(decodePriceQuery(enc.encode('{"agent_id":"survivor"}\n'))).toEqual({ agentId: 'survivor' })
    expect(decodePriceQuery(enc.encode('{"agent_id":null,"future":[1,{"x":2}]}'))).toEqual({}) // Go: unknown fields ignored
  })

  it('refuses a question that is not the reference\'s shape', () => {
    for (const bad of ['[]', '{"agent_id":5}', '{"agent_id":"x","agent_id":"y"}', '{"agent_id":"\\ud800', 'nonsense', `{"agent_id":"${'a'.repeat(300)}"}`]) {
      expect(refusal(() => decodePriceQuery(enc.encode(bad))).code, bad).toBe('BAD_TRANSFER')
    }
  })

  it('an answer has the reference\'s two fields first, ours after, exact up to 2^63-1', () => {
    const bytes = encodePriceAnswer({ pricePerSecond: I64_MAX, nodeId: '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV', capabilities: ['clock', 'log'], agents: 2, maxAgents: 0 })
    expect(text(bytes)).toBe('{"price_per_second":9223372036854775807,"node_id":"12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV","capabilities":["clock","log"],"agents":2,"max_agents":0}\n')
    expect(decodePriceAnswer(bytes)).toEqual({ pricePerSecond: I64_MAX, nodeId: '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV', capabilities: ['clock', 'log'], agents: 2, maxAgents: 0 })
    for (const price of [0n, (1n << 53n) + 1n]) {
      expect(decodePriceAnswer(encodePriceAnswer({ pricePerSecond: price, nodeId: 'n' })).pricePerSecond).toBe(price)
    }
  })

  it('reads a reference node\'s answer (Go json.Encoder output, no fields of ours)', () => {
    expect(decodePriceAnswer(enc.encode('{"price_per_second":1000,"node_id":"12D3KooWabc"}\n'))).toEqual({ pricePerSecond: 1000n, nodeId: '12D3KooWabc' })
  })

  it('refuses answers that are not exact, in range and well-formed', () => {
    for (const bad of [
      '{"price_per_second":9223372036854775808,"node_id":"n"}', // 2^63
      '{"price_per_second":18446744073709551615,"node_id":"n"}', // 2^64-1
      '{"price_per_second":-1,"node_id":"n"}',
      '{"price_per_second":1.5,"node_id":"n"}',
      '{"price_per_second":1e3,"node_id":"n"}',
      '{"price_per_second":"1000","node_id":"n"}',
      '{"node_id":"n"}',
      '{"price_per_second":1000}',
      '{"price_per_second":1000,"node_id":"n","capabilities":"clock"}',
      '{"price_per_second":1000,"node_id":"n","capabilities":[1]}',
      '{"price_per_second":1000,"node_id":"n","agents":-1}',
      '{"price_per_second":1000,"node_id":"n","max_agents":9007199254740993}'
    ]) {
      expect(refusal(() => decodePriceAnswer(enc.encode(bad))).code, bad).toBe('BAD_REPLY')
    }
  })

  it('a refusal object reads as a typed error: RATE_LIMITED, or QUERY_REFUSED', () => {
    expect(text(encodePriceRefusal('n', 'RATE_LIMITED', 'RATE_LIMITED: slow down'))).toBe('{"error":"RATE_LIMITED: slow down","code":"RATE_LIMITED","node_id":"n"}\n')
    expect(refusal(() => decodePriceAnswer(encodePriceRefusal('n', 'RATE_LIMITED', 'RATE_LIMITED: slow down')))).toMatchObject({ code: 'RATE_LIMITED', message: 'price query refused by n: RATE_LIMITED: slow down' })
    expect(refusal(() => decodePriceAnswer(encodePriceRefusal('n', 'BAD_REQUEST', 'BAD_REQUEST: garbage'))).code).toBe('QUERY_REFUSED')
  })
})

describe('PriceRateLimiter', () => {
  it('answers at most 60 in any 60 s per peer (no burst on top), refused asks not counted, logged once a minute', () => {
    let now = 0
    const limiter = new PriceRateLimiter({}, () => now)
    const first = Array.from({ length: 70 }, () => limiter.take('p'))
    expect(first.filter((t) => t === null)).toHaveLength(60)
    expect(first[60]).toMatchObject({ reason: /more than 60 price queries a minute/, log: true })
    expect(first[61]).toMatchObject({ log: false })
    expect(limiter.take('q')).toBeNull() // another peer has its own window
    now = 59_999
    expect(limiter.take('p')).not.toBeNull() // the window still holds 60
    now = 60_000
    const second = Array.from({ length: 70 }, () => limiter.take('p'))
    expect(second.filter((t) => t === null)).toHaveLength(60)
    expect(second[60]).toMatchObject({ log: true })
  })

  it('a sliding window: asks spread over the minute are answered only as old ones age out', () => {
    let now = 0
    const limiter = new PriceRateLimiter({ perPeerPerMinute: 3 }, () => now)
    expect(limiter.take('p')).toBeNull()
    now = 20_000
    expect(limiter.take('p')).toBeNull()
    now = 40_000
    expect(limiter.take('p')).toBeNull()
    now = 50_000
    expect(limiter.take('p')).toMatchObject({ reason: /ask again in 10s/ })
    now = 60_000
    expect(limiter.take('p')).toBeNull() // the ask at 0 aged out
    expect(limiter.take('p')).not.toBeNull()
  })

  it('a node-wide bucket meets fresh peer keys; forgotten peers are bounded', () => {
    const limiter = new PriceRateLimiter({ nodeBurst: 5, nodePerSecond: 0.001, maxPeers: 2 }, () => 0)
    const taken = Array.from({ length: 8 }, (_, i) => limiter.take(`peer-${i}`))
    expect(taken.filter((t) => t === null)).toHaveLength(5)
    expect(taken[5]).toMatchObject({ reason: /this node answers at most/ })
  })
})

describe('handler and askPrice over libp2p', () => {
  let server: Libp2p
  let client: Libp2p
  let address: string
  let price = I64_MAX
  let now = 0

  beforeAll(async () => {
    ;[server, client] = await Promise.all([
      generateKeyPair('Ed25519').then(async (privateKey) => createIgorLibp2p({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] })),
      generateKeyPair('Ed25519').then(async (privateKey) => createIgorLibp2p({ privateKey, listen: [] }))
    ])
    await server.handle(PRICE_PROTOCOL, createPriceHandler({
      runtime: { priceOffer: () => ({ pricePerSecond: price, capabilities: ['clock', 'rand'], agents: 3, maxAgents: 10 }) },
      logger: silentLogger,
      nodeId: server.peerId.toString(),
      now: () => now
    }), { maxInboundStreams: 16 })
    address = announceAddresses(server).find((a) => a.startsWith('/ip4/127.0.0.1/')) as string
  })

  afterAll(async () => {
    await Promise.all([server.stop(), client.stop()])
  })

  /** Writes `bytes` raw on a price stream and returns everything the node sent until it closed. */
  async function raw(bytes: Uint8Array): Promise<string> {
    const stream = await openStream(client, address, PRICE_PROTOCOL)
    void stream.sink([bytes]).catch(() => undefined)
    let out = ''
    for await (const chunk of stream.source) out += dec.decode(chunk.subarray())
    return out
  }

  it('answers exactly, 2^63-1 included, then closes', async () => {
    expect(await raw(enc.encode('{}\n'))).toBe(`{"price_per_second":9223372036854775807,"node_id":"${server.peerId.toString()}","capabilities":["clock","rand"],"agents":3,"max_agents":10}\n`)
    const answer = await askPrice(client, address, { timeoutMs: 30_000, agentId: 'survivor' })
    expect(answer).toEqual({ pricePerSecond: I64_MAX, nodeId: server.peerId.toString(), capabilities: ['clock', 'rand'], agents: 3, maxAgents: 10 })
  })

  it('reads the price when asked: a change is seen by the next ask', async () => {
    price = 2500n
    expect((await askPrice(client, address, { timeoutMs: 30_000 })).pricePerSecond).toBe(2500n)
    // By peer id too, once the peer's addresses are known.
    expect((await askPrice(client, server.peerId, { timeoutMs: 30_000 })).pricePerSecond).toBe(2500n)
    price = I64_MAX
  })

  it('answers a garbage question with a refusal, not a price', async () => {
    const reply = await raw(enc.encode('{"agent_id":42}\n'))
    expect(JSON.parse(reply)).toMatchObject({ code: 'BAD_REQUEST', node_id: server.peerId.toString(), error: expect.stringMatching(/^BAD_REQUEST: PriceRequest.agent_id/) })
    expect(reply).not.toContain('price_per_second')
    expect(JSON.parse(await raw(enc.encode('not json at all')))).toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('stops reading an oversize question at the cap and refuses it', async () => {
    const huge = enc.encode(`{"agent_id":"${'a'.repeat(MAX_PRICE_QUERY_BYTES * 64)}"}\n`)
    const reply = await raw(huge)
    expect(JSON.parse(reply)).toMatchObject({ code: 'BAD_REQUEST', error: expect.stringMatching(/exceeds 1024 bytes/) })
  })

  it('70 asks in a row get at most 60 answers; the rest are RATE_LIMITED', async () => {
    now = 1_000_000 // a fresh minute: earlier tests' asks aged out
    let answered = 0
    const codes = new Set<string>()
    for (let i = 0; i < 70; i++) {
      try {
        await askPrice(client, address, { timeoutMs: 30_000 })
        answered++
      } catch (error) {
        codes.add((error as { code: string }).code)
      }
    }
    expect(answered).toBe(60)
    expect([...codes]).toEqual(['RATE_LIMITED'])
    now += 60_000
    expect((await askPrice(client, address, { timeoutMs: 30_000 })).pricePerSecond).toBe(I64_MAX)
  })

  it('refuses unusable peers with typed errors', async () => {
    expect((await asyncRefusal(askPrice(client, 'not a peer'))).code).toBe('BAD_PEER_ADDRESS')
    expect((await asyncRefusal(askPrice(client, '/ip4/127.0.0.1/tcp/1', { timeoutMs: 2000 }))).code).toBe('BAD_PEER_ADDRESS')
  })
})
