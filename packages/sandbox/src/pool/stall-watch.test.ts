import { describe, expect, it } from 'vitest'
import { deadlineVerdict, processStallClock } from './stall-watch.js'

const MS = 1_000_000n

describe('deadlineVerdict (SPEC §11: nothing the agent does can postpone its deadline)', () => {
  const base = { startedAtNs: 1_000n * MS, deadlineNs: 100n * MS, stalledNs: 0n, replied: false }

  it('expires once the call ran its deadline, however late the timer fired', () => {
    expect(deadlineVerdict({ ...base, nowNs: 1_100n * MS })).toEqual({ action: 'expired' })
    expect(deadlineVerdict({ ...base, nowNs: 9_000n * MS })).toEqual({ action: 'expired' })
  })

  it('waits out the rest when the timer fired early (the worker started the call after it was posted)', () => {
    expect(deadlineVerdict({ ...base, nowNs: 1_060n * MS })).toEqual({ action: 'wait', ms: 40 })
  })

  it('forgives only time the process was measured stopped', () => {
    expect(deadlineVerdict({ ...base, nowNs: 6_000n * MS, stalledNs: 4_950n * MS })).toEqual({ action: 'wait', ms: 50 })
    expect(deadlineVerdict({ ...base, nowNs: 6_000n * MS, stalledNs: 4_900n * MS })).toEqual({ action: 'expired' })
    expect(deadlineVerdict({ ...base, nowNs: 1_200n * MS, stalledNs: -5n })).toEqual({ action: 'expired' })
  })

  it('a call the worker has not started is waited for: no agent code has run', () => {
    expect(deadlineVerdict({ ...base, nowNs: 9_000n * MS, started: false })).toEqual({ action: 'not-started' })
    expect(deadlineVerdict({ ...base, nowNs: 9_000n * MS, started: true })).toEqual({ action: 'expired' })
  })

  it('a reply already posted by the worker is waited for, not killed', () => {
    expect(deadlineVerdict({ ...base, nowNs: 9_000n * MS, replied: true })).toEqual({ action: 'reply-pending' })
  })
})

describe('processStallClock', () => {
  it('reads a monotonic clock and a stall total that starts near zero', () => {
    const clock = processStallClock()
    const a = clock.nowNs()
    expect(clock.nowNs()).toBeGreaterThanOrEqual(a)
    expect(clock.stalledNs()).toBeGreaterThanOrEqual(0n)
  })
})
