import { Epoch } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import { decideRecovery } from './decide.js'
import { AuthorityRateLimiter } from './rate-limit.js'
import { decodeAuthorityAnswer, decodeAuthorityQuery, encodeAuthorityAnswer, encodeAuthorityQuery } from './wire.js'
import type { AuthorityAnswer } from './wire.js'

const BIG = (1n << 64n) - 1n
const answer = (over: Partial<AuthorityAnswer>): AuthorityAnswer => ({
  AgentID: 'x', NodeID: 'peer', Held: 'none', State: null, Epoch: null, MovedTo: null, Fenced: null, Error: '', ...over
})

describe('/igor/authority/1.0.0 messages', () => {
  it('round-trip exactly, u64 values above 2^53 included', () => {
    const query = decodeAuthorityQuery(encodeAuthorityQuery({ AgentID: 'x', Epoch: new Epoch(BIG, 7n) }))
    expect(query.AgentID).toBe('x')
    expect(query.Epoch.equals(new Epoch(BIG, 7n))).toBe(true)
    const full = answer({ Held: 'tombstone', State: 'RETIRED', Epoch: new Epoch(3n, BIG), MovedTo: 'elsewhere', Fenced: new Epoch(1n, 2n) })
    const back = decodeAuthorityAnswer(encodeAuthorityAnswer(full))
    expect(back.Epoch?.equals(new Epoch(3n, BIG))).toBe(true)
    expect(back.Fenced?.equals(new Epoch(1n, 2n))).toBe(true)
    expect(back.MovedTo).toBe('elsewhere')
  })

  it('refuse malformed messages with a typed error', () => {
    const enc = new TextEncoder()
    expect(() => decodeAuthorityQuery(enc.encode('{"AgentID":"x"}'))).toThrow(/Epoch is missing/)
    expect(() => decodeAuthorityQuery(enc.encode('{"AgentID":"x","Epoch":{"MajorVersion":1,"LeaseGeneration":"0"}}'))).toThrow(/decimal u64/)
    expect(() => decodeAuthorityAnswer(enc.encode('{"AgentID":"x","NodeID":"p","Held":"maybe"}'))).toThrow(/Held must be/)
  })
})

describe('issue 16: the optional proof of stake, `unknown`, and the per-peer rate', () => {
  it('a query carries its proof compatibly: absent stays absent, present round-trips, malformed is refused', () => {
    const plain = encodeAuthorityQuery({ AgentID: 'x', Epoch: new Epoch(1n, 0n) })
    expect(new TextDecoder().decode(plain)).not.toMatch(/Proof/)
    expect(decodeAuthorityQuery(plain).Proof).toBeUndefined()
    const Header = new Uint8Array(209).fill(4)
    const Signature = new Uint8Array(64).fill(9)
    const back = decodeAuthorityQuery(encodeAuthorityQuery({ AgentID: 'x', Epoch: new Epoch(BIG, BIG), Proof: { Header, Signature } }))
    expect(Buffer.from(back.Proof!.Header).equals(Buffer.from(Header))).toBe(true)
    expect(Buffer.from(back.Proof!.Signature).equals(Buffer.from(Signature))).toBe(true)
    const enc = new TextEncoder()
    expect(() => decodeAuthorityQuery(enc.encode('{"AgentID":"x","Epoch":{"MajorVersion":"1","LeaseGeneration":"0"},"Proof":{"Header":"!!","Signature":""}}'))).toThrow(/Proof.Header must be base64/)
    expect(() => decodeAuthorityQuery(enc.encode('{"AgentID":"x","Epoch":{"MajorVersion":"1","LeaseGeneration":"0"},"Proof":[]}'))).toThrow(/Proof must be an object/)
  })

  it('an `unknown` answer decodes, and the asker waits on it', () => {
    expect(decodeAuthorityAnswer(encodeAuthorityAnswer(answer({ Held: 'unknown' }))).Held).toBe('unknown')
    const d = decideRecovery(new Epoch(2n, 5n), [{ address: 'a', answer: answer({ Held: 'unknown' }) }])
    expect(d).toMatchObject({ action: 'wait', why: /answered unknown/ })
  })

  it('token buckets: a burst per peer, then the refill rate; a node-wide bucket meets fresh peer keys', () => {
    let now = 0
    const limiter = new AuthorityRateLimiter({ perPeerBurst: 3, perPeerPerSecond: 1, nodeBurst: 5, nodePerSecond: 0.001, maxPeers: 2 }, () => now)
    const taken = Array.from({ length: 10 }, () => limiter.take('p'))
    expect(taken.filter((t) => t === null)).toHaveLength(3)
    expect(taken[3]).toMatchObject({ reason: /^RATE_LIMITED/, log: true })
    expect(taken[4]).toMatchObject({ log: false })
    now += 1000
    expect(limiter.take('p')).toBeNull()
    expect(limiter.take('p')).not.toBeNull()
    // The node-wide bucket (5) has one token left after p's 4.
    expect(limiter.take('q')).toBeNull()
    expect(limiter.take('r')).toMatchObject({ reason: /this node answers at most/ })
  })
})

describe('decideRecovery (the asker\'s rule)', () => {
  const ours = new Epoch(2n, 5n)
  it('retires when any peer holds a copy or tombstone at a higher epoch, even if another peer did not answer', () => {
    const d = decideRecovery(ours, [
      { address: 'a', error: 'dial failed' },
      { address: 'b', answer: answer({ Held: 'copy', State: 'ACTIVE_OWNER', Epoch: new Epoch(3n, 0n) }) }
    ])
    expect(d).toMatchObject({ action: 'retire', address: 'b' })
    expect(decideRecovery(ours, [{ address: 'b', answer: answer({ Held: 'tombstone', Epoch: new Epoch(3n, 1n) }) }]).action).toBe('retire')
  })

  it('recovers only when every peer answered and fenced at our epoch or above', () => {
    const fenced = answer({ Fenced: ours })
    expect(decideRecovery(ours, [{ address: 'a', answer: fenced }, { address: 'b', answer: answer({ Held: 'tombstone', Epoch: new Epoch(1n, 0n), Fenced: ours }) }]).action).toBe('recover')
    expect(decideRecovery(ours, [{ address: 'a', answer: fenced }, { address: 'b', error: 'timeout' }]).action).toBe('wait')
    expect(decideRecovery(ours, [{ address: 'a', answer: answer({ Held: 'error', Error: 'disk' }) }]).action).toBe('wait')
    expect(decideRecovery(ours, [{ address: 'a', answer: answer({ Fenced: new Epoch(2n, 4n) }) }]).action).toBe('wait')
    // A copy at the same or a lower epoch is not newer.
    expect(decideRecovery(ours, [{ address: 'a', answer: answer({ Held: 'copy', Epoch: ours, Fenced: ours }) }]).action).toBe('recover')
  })

  it('with no peer to ask, recovers (the caller only does so when no hand-off was in flight)', () => {
    expect(decideRecovery(ours, []).action).toBe('recover')
  })
})
