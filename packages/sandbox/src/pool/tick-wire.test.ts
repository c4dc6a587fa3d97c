// SPEC §11 tick path (issue 21 item 6): what crosses the TickWire comes out as it went in.
import { describe, expect, it } from 'vitest'
import { TickWire } from './tick-wire.js'

const I64_MAX = 2n ** 63n - 1n
const I64_MIN = -(2n ** 63n)

describe('TickWire', () => {
  it('carries a tick request both ways, optional fields absent when not sent', () => {
    const wire = new TickWire()
    const other = new TickWire(wire.buffer) // the worker's view of the same block
    for (const budget of [0n, 2n ** 53n + 1n, I64_MAX, I64_MIN, -5n]) {
      wire.writeRequest(7, { deadlineMs: 100.5, budget, deadline: I64_MAX, price: 2n ** 53n + 1n, snapshotDeadlineMs: 500, movePending: true })
      expect(other.readRequest(3)).toEqual({ op: 'tick', id: 7, slot: 3, deadlineMs: 100.5, budget, deadline: I64_MAX, price: 2n ** 53n + 1n, snapshotDeadlineMs: 500, movePending: true })
    }
    wire.writeRequest(2 ** 31, { deadlineMs: 100, budget: 1n, deadline: null })
    expect(other.readRequest(1)).toEqual({ op: 'tick', id: 2 ** 31, slot: 1, deadlineMs: 100, budget: 1n, deadline: null })
  })

  it('carries a successful reply; a failure or a replay failure does not fit', () => {
    const wire = new TickWire()
    expect(wire.writeReply({ type: 'reply', id: 9, ok: true, elapsedNs: I64_MAX, more: true, observations: 3, highestId: 7, recorded: true, moveRequest: I64_MIN })).toBe(true)
    expect(new TickWire(wire.buffer).readReply()).toEqual({ type: 'reply', id: 9, ok: true, elapsedNs: I64_MAX, more: true, observations: 3, highestId: 7, recorded: true, moveRequest: I64_MIN })
    expect(wire.writeReply({ type: 'reply', id: 10, ok: true, elapsedNs: 0n })).toBe(true)
    expect(wire.readReply()).toEqual({ type: 'reply', id: 10, ok: true, elapsedNs: 0n })
    expect(wire.writeReply({ type: 'reply', id: 11, ok: true, elapsedNs: 1n, replayFailure: null })).toBe(false)
    expect(wire.writeReply({ type: 'reply', id: 12, ok: false, kind: 'trap', message: 'x', elapsedNs: 1n })).toBe(false)
  })

  it('takes only ticks without receipts or marks, with values an i64 holds', () => {
    expect(TickWire.fits({ op: 'tick', budget: I64_MAX, price: I64_MIN, deadline: null })).toBe(true)
    expect(TickWire.fits({ op: 'tick', budget: 2n ** 64n - 1n })).toBe(false)
    expect(TickWire.fits({ op: 'tick', budget: 1n, price: 2n ** 63n })).toBe(false)
    expect(TickWire.fits({ op: 'tick', budget: 1n, receipts: new Uint8Array(4) })).toBe(false)
    expect(TickWire.fits({ op: 'tick', budget: 1n, marks: {} })).toBe(false)
    expect(TickWire.fits({ op: 'checkpoint' })).toBe(false)
  })
})
