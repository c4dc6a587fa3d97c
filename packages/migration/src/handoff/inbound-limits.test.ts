import { describe, expect, it } from 'vitest'
import { InboundGate } from './inbound-limits.js'

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let total = 0
  for await (const chunk of source) total += chunk.byteLength
  return total
}

function chunks(...sizes: number[]): AsyncIterable<Uint8Array> {
  return (function * () { for (const size of sizes) yield new Uint8Array(size) })() as unknown as AsyncIterable<Uint8Array>
}

describe('InboundGate (issue 8 point 6)', () => {
  it('refuses a peer over its per-minute limit, before reading, and lets it in again a minute later', () => {
    let now = 0
    const gate = new InboundGate({ maxConcurrent: 10, maxBufferedBytes: 1000, maxPerPeerPerMinute: 2 }, () => now)
    gate.admit('p').release()
    gate.admit('p').release()
    expect(() => gate.admit('p')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', message: 'too many hand-offs from this peer: 2 in the last minute (limit 2)' }))
    gate.admit('other').release() // per peer
    now = 60_001
    expect(() => gate.admit('p').release()).not.toThrow()
  })

  it('holds at most maxConcurrent transfers; a released one frees its place', () => {
    const gate = new InboundGate({ maxConcurrent: 2, maxBufferedBytes: 1000, maxPerPeerPerMinute: 100 })
    const a = gate.admit('a')
    gate.admit('b')
    expect(() => gate.admit('c')).toThrow(expect.objectContaining({ code: 'TARGET_BUSY' }))
    a.release()
    a.release() // twice is harmless
    expect(gate.usage.transfers).toBe(1)
    expect(() => gate.admit('c')).not.toThrow()
  })

  it('counts bytes node-wide: a transfer that would pass the budget is cut off; released bytes are free again', async () => {
    const gate = new InboundGate({ maxConcurrent: 10, maxBufferedBytes: 100, maxPerPeerPerMinute: 100 })
    const first = gate.admit('a')
    expect(await drain(first.meter(chunks(30, 30)))).toBe(60)
    const second = gate.admit('b')
    await expect(drain(second.meter(chunks(30, 30)))).rejects.toMatchObject({ code: 'TARGET_BUSY' })
    expect(gate.usage.bytes).toBe(90)
    second.release()
    first.release()
    expect(gate.usage).toEqual({ transfers: 0, bytes: 0 })
    const third = gate.admit('c')
    expect(await drain(third.meter(chunks(100)))).toBe(100)
  })

  it('counts decoded memory per admission and node-wide (SPEC §7: counted in memory, not bytes)', () => {
    const gate = new InboundGate({ maxConcurrent: 10, maxBufferedBytes: 100, maxAdmissionBytes: 60, maxPerPeerPerMinute: 100 })
    const a = gate.admit('a')
    a.ledger.take(50)
    expect(() => a.ledger.take(11)).toThrow(expect.objectContaining({ code: 'TRANSFER_TOO_LARGE' }))
    a.ledger.give(20)
    a.ledger.take(30)
    const b = gate.admit('b')
    b.ledger.take(40)
    expect(() => b.ledger.take(1)).toThrow(expect.objectContaining({ code: 'TARGET_BUSY' }))
    expect(gate.usage.bytes).toBe(100)
    a.release()
    expect(gate.usage.bytes).toBe(40)
    b.ledger.take(20)
    b.release()
    expect(gate.usage).toEqual({ transfers: 0, bytes: 0 })
  })
})
