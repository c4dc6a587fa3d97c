import { Epoch, U64_MAX } from '@igor/epoch'
import { describe, expect, it } from 'vitest'
import { AuthorityError, AuthorityState, DEFAULT_LEASE_CONFIG, Lease, ManualClock } from './index.js'

const MS = 1_000_000n
const T0 = 1_700_000_000_000_000_000n
const DURATION = 60_000n * MS
const GRACE = 10_000n * MS
const HALF = 30_000n * MS
const EDGES = [0n, (1n << 53n) + 1n, (1n << 63n) - 1n, U64_MAX - 1n]

function caught(fn: () => unknown): AuthorityError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(AuthorityError)
    return error as AuthorityError
  }
  throw new Error('expected an AuthorityError')
}

function fresh(): { clock: ManualClock, lease: Lease } {
  const clock = new ManualClock(T0)
  return { clock, lease: Lease.bootstrap(DEFAULT_LEASE_CONFIG, clock) }
}

describe('Lease.bootstrap', () => {
  it('starts at (0,0), ACTIVE_OWNER, expiry now + duration', () => {
    const { lease } = fresh()
    expect(lease.epoch.equals(Epoch.ZERO)).toBe(true)
    expect(lease.state).toBe(AuthorityState.ACTIVE_OWNER)
    expect(lease.expiry).toBe(T0 + DURATION)
    expect(lease.leasesEnabled).toBe(true)
    expect(lease.config).toEqual(DEFAULT_LEASE_CONFIG)
    expect(lease.recoveryReason).toBeNull()
  })

  it('validates the config', () => {
    expect(() => Lease.bootstrap({ ...DEFAULT_LEASE_CONFIG, durationMs: 0 }, new ManualClock())).toThrow(/^durationMs/)
    expect(() => Lease.bootstrap({ ...DEFAULT_LEASE_CONFIG, renewalWindow: 1 }, new ManualClock())).toThrow(RangeError)
  })

  it('uses the system clock by default', () => {
    const lease = Lease.bootstrap(DEFAULT_LEASE_CONFIG)
    expect(lease.isExpired()).toBe(false)
    expect(lease.expiry).toBeGreaterThan(BigInt(Date.now()) * MS)
  })

  it('saturates the expiry at the i64 maximum a checkpoint can store', () => {
    const clock = new ManualClock((1n << 63n) - 2n)
    const lease = Lease.bootstrap(DEFAULT_LEASE_CONFIG, clock)
    expect(lease.expiry).toBe((1n << 63n) - 1n)
  })

  it('has read-only getters', () => {
    const { lease } = fresh()
    expect(() => { (lease as unknown as { state: string }).state = 'RETIRED' }).toThrow(TypeError)
    expect(() => { (lease as unknown as { expiry: bigint }).expiry = 0n }).toThrow(TypeError)
    expect(() => { (lease as unknown as { epoch: Epoch }).epoch = Epoch.ZERO }).toThrow(TypeError)
    expect(lease.state).toBe('ACTIVE_OWNER')
  })
})

describe('Lease.fromCheckpoint', () => {
  it('restores (M,G) as (M,G+1) with a fresh expiry', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.fromCheckpoint(new Epoch(3n, 7n), DEFAULT_LEASE_CONFIG, clock)
    expect(lease.epoch.toString()).toBe('(3,8)')
    expect(lease.expiry).toBe(T0 + DURATION)
    expect(lease.state).toBe('ACTIVE_OWNER')
  })

  it.each(EDGES)('keeps every u64 edge exact (component %s)', (edge) => {
    const clock = new ManualClock(T0)
    const lease = Lease.fromCheckpoint(new Epoch(edge, edge), DEFAULT_LEASE_CONFIG, clock)
    expect(lease.epoch.majorVersion).toBe(edge)
    expect(lease.epoch.leaseGeneration).toBe(edge + 1n)
  })

  it('restores G = 2^64-2 as 2^64-1 and refuses G = 2^64-1', () => {
    const clock = new ManualClock(T0)
    const top = Lease.fromCheckpoint(new Epoch(U64_MAX, U64_MAX - 1n), DEFAULT_LEASE_CONFIG, clock)
    expect(top.epoch.leaseGeneration).toBe(U64_MAX)
    expect(top.epoch.majorVersion).toBe(U64_MAX)
    expect(() => Lease.fromCheckpoint(new Epoch(1n, U64_MAX), DEFAULT_LEASE_CONFIG, clock)).toThrow(RangeError)
  })

  it('never lowers the epoch across repeated restarts', () => {
    const clock = new ManualClock(T0)
    let stored = new Epoch(2n, 5n)
    for (let restart = 0; restart < 5; restart++) {
      const lease = Lease.fromCheckpoint(stored, DEFAULT_LEASE_CONFIG, clock)
      expect(lease.epoch.supersedes(stored)).toBe(true)
      stored = lease.renew()
      clock.advanceMs(1_000)
    }
    expect(stored.toString()).toBe('(2,15)')
  })

  it('refuses a non-Epoch', () => {
    expect(() => Lease.fromCheckpoint({ majorVersion: 1n, leaseGeneration: 0n } as Epoch, DEFAULT_LEASE_CONFIG)).toThrow(TypeError)
  })
})

describe('Lease.fromMigration', () => {
  it('grants (sourceMajor+1, 0) with a fresh expiry', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.fromMigration(3n, DEFAULT_LEASE_CONFIG, clock)
    expect(lease.epoch.toString()).toBe('(4,0)')
    expect(lease.expiry).toBe(T0 + DURATION)
    expect(lease.state).toBe('ACTIVE_OWNER')
  })

  it('keeps u64 edges exact and refuses 2^64-1 and negatives', () => {
    expect(Lease.fromMigration(0n, DEFAULT_LEASE_CONFIG).epoch.toString()).toBe('(1,0)')
    expect(Lease.fromMigration((1n << 53n) + 1n, DEFAULT_LEASE_CONFIG).epoch.majorVersion).toBe((1n << 53n) + 2n)
    expect(Lease.fromMigration((1n << 63n) - 1n, DEFAULT_LEASE_CONFIG).epoch.majorVersion).toBe(1n << 63n)
    expect(Lease.fromMigration(U64_MAX - 1n, DEFAULT_LEASE_CONFIG).epoch.majorVersion).toBe(U64_MAX)
    expect(() => Lease.fromMigration(U64_MAX, DEFAULT_LEASE_CONFIG)).toThrow(RangeError)
    expect(() => Lease.fromMigration(-1n, DEFAULT_LEASE_CONFIG)).toThrow(RangeError)
  })
})

describe('expiry and grace', () => {
  it('isExpired is strict: not at expiry, yes 1 ns after', () => {
    const { clock, lease } = fresh()
    clock.set(T0 + DURATION)
    expect(lease.isExpired()).toBe(false)
    clock.advanceNs(1n)
    expect(lease.isExpired()).toBe(true)
    expect(lease.isExpiredWithGrace()).toBe(false)
  })

  it('isExpiredWithGrace is strict at expiry + grace', () => {
    const { clock, lease } = fresh()
    clock.set(T0 + DURATION + GRACE)
    expect(lease.isExpiredWithGrace()).toBe(false)
    clock.advanceNs(1n)
    expect(lease.isExpiredWithGrace()).toBe(true)
  })

  it('with zero grace, expired and expired-with-grace coincide', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.bootstrap({ ...DEFAULT_LEASE_CONFIG, gracePeriodMs: 0 }, clock)
    clock.set(T0 + DURATION + 1n)
    expect(lease.isExpired()).toBe(true)
    expect(lease.isExpiredWithGrace()).toBe(true)
  })
})

describe('needsRenewal', () => {
  it('is true exactly at the window threshold, false 1 ns before, true 1 ns after', () => {
    const { clock, lease } = fresh()
    const threshold = T0 + DURATION - HALF // remaining = 30 s exactly
    clock.set(threshold - 1n)
    expect(lease.needsRenewal()).toBe(false)
    clock.set(threshold)
    expect(lease.needsRenewal()).toBe(true)
    clock.set(threshold + 1n)
    expect(lease.needsRenewal()).toBe(true)
  })

  it('judges by a reading already taken when given one: validateForTick() returns its own (one clock read for both)', () => {
    const { clock, lease } = fresh()
    const threshold = T0 + DURATION - HALF
    clock.set(threshold - 1n)
    const reading = lease.validateForTick()
    expect(reading).toBe(threshold - 1n)
    clock.set(threshold + 5n) // the clock moved on; the given reading is what counts
    expect(lease.needsRenewal(reading)).toBe(false)
    expect(lease.needsRenewal()).toBe(true)
    expect(lease.needsRenewal(threshold)).toBe(true)
    for (const edge of EDGES) expect(typeof lease.needsRenewal(edge)).toBe('boolean')
  })

  it('uses the decimal window exactly (0.3 of 60 s is 18 s to the ns)', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.bootstrap({ ...DEFAULT_LEASE_CONFIG, renewalWindow: 0.3 }, clock)
    clock.set(T0 + DURATION - 18_000n * MS - 1n)
    expect(lease.needsRenewal()).toBe(false)
    clock.advanceNs(1n)
    expect(lease.needsRenewal()).toBe(true)
  })

  it('stays true once expired, and is false again after a renewal', () => {
    const { clock, lease } = fresh()
    clock.set(T0 + DURATION + GRACE)
    expect(lease.needsRenewal()).toBe(true)
    lease.renew()
    expect(lease.needsRenewal()).toBe(false)
  })
})

describe('renew', () => {
  it('bumps the generation and sets expiry = now + duration', () => {
    const { clock, lease } = fresh()
    clock.advanceMs(40_000)
    const epoch = lease.renew()
    expect(epoch.toString()).toBe('(0,1)')
    expect(lease.epoch).toBe(epoch)
    expect(lease.expiry).toBe(T0 + 40_000n * MS + DURATION)
  })

  it('is allowed inside grace', () => {
    const { clock, lease } = fresh()
    clock.set(T0 + DURATION + GRACE)
    expect(lease.isExpired()).toBe(true)
    expect(lease.renew().toString()).toBe('(0,1)')
    expect(lease.isExpired()).toBe(false)
  })

  it('is refused beyond grace with LEASE_EXPIRED and changes nothing', () => {
    const { clock, lease } = fresh()
    clock.set(T0 + DURATION + GRACE + 1n)
    const error = caught(() => lease.renew())
    expect(error.code).toBe('LEASE_EXPIRED')
    expect(error.name).toBe('AuthorityError')
    expect(error.message).toMatch(/\(0,0\) expired beyond grace/)
    expect(lease.epoch.equals(Epoch.ZERO)).toBe(true)
    expect(lease.expiry).toBe(T0 + DURATION)
    expect(lease.state).toBe('ACTIVE_OWNER')
  })

  it.each(['HANDOFF_INITIATED', 'HANDOFF_PENDING', 'RETIRED', 'RECOVERY_REQUIRED'] as const)(
    'is refused in %s with NOT_ACTIVE_OWNER and changes nothing',
    (state) => {
      const clock = new ManualClock(T0)
      const lease = Lease.restore(new Epoch(2n, 2n), T0 + DURATION, state, DEFAULT_LEASE_CONFIG, clock)
      const error = caught(() => lease.renew())
      expect(error.code).toBe('NOT_ACTIVE_OWNER')
      expect(error.message).toContain(state)
      expect(lease.state).toBe(state)
      expect(lease.epoch.toString()).toBe('(2,2)')
      expect(lease.expiry).toBe(T0 + DURATION)
    }
  )

  it('throws RangeError at generation 2^64-1 and changes nothing', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.restore(new Epoch(1n, U64_MAX), T0, 'ACTIVE_OWNER', DEFAULT_LEASE_CONFIG, clock)
    clock.advanceMs(1)
    expect(() => lease.renew()).toThrow(RangeError)
    expect(lease.epoch.leaseGeneration).toBe(U64_MAX)
    expect(lease.expiry).toBe(T0)
  })
})

describe('validateForTick', () => {
  it('passes for a live ACTIVE_OWNER', () => {
    const { lease } = fresh()
    expect(() => lease.validateForTick()).not.toThrow()
  })

  it('still allows ticking inside grace', () => {
    const { clock, lease } = fresh()
    clock.set(T0 + DURATION + GRACE)
    expect(lease.isExpired()).toBe(true)
    expect(lease.isExpiredWithGrace()).toBe(false)
    expect(() => lease.validateForTick()).not.toThrow()
    expect(lease.state).toBe('ACTIVE_OWNER')
  })

  it('beyond grace: moves to RECOVERY_REQUIRED and refuses with LEASE_EXPIRED', () => {
    const { clock, lease } = fresh()
    clock.set(T0 + DURATION + GRACE + 1n)
    const error = caught(() => lease.validateForTick())
    expect(error.code).toBe('LEASE_EXPIRED')
    expect(lease.state).toBe('RECOVERY_REQUIRED')
    expect(lease.recoveryReason).toMatch(/expired beyond grace/)
    expect(lease.epoch.equals(Epoch.ZERO)).toBe(true)
    // Resuming after a long pause does not bring it back.
    clock.set(T0)
    expect(caught(() => lease.validateForTick()).code).toBe('NOT_ACTIVE_OWNER')
    expect(caught(() => lease.renew()).code).toBe('NOT_ACTIVE_OWNER')
  })

  it.each(['HANDOFF_INITIATED', 'HANDOFF_PENDING', 'RETIRED', 'RECOVERY_REQUIRED'] as const)(
    'refuses in %s with NOT_ACTIVE_OWNER, even with a live lease',
    (state) => {
      const clock = new ManualClock(T0)
      const lease = Lease.restore(new Epoch(1n, 1n), T0 + DURATION, state, DEFAULT_LEASE_CONFIG, clock)
      const error = caught(() => lease.validateForTick())
      expect(error.code).toBe('NOT_ACTIVE_OWNER')
      expect(error.message).toContain(state)
      expect(lease.state).toBe(state)
    }
  )

  it('refuses a non-owner with NOT_ACTIVE_OWNER before looking at time', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.restore(Epoch.ZERO, T0, 'HANDOFF_PENDING', DEFAULT_LEASE_CONFIG, clock)
    clock.set(T0 + DURATION * 10n)
    expect(caught(() => lease.validateForTick()).code).toBe('NOT_ACTIVE_OWNER')
    expect(lease.state).toBe('HANDOFF_PENDING')
  })
})

describe('Lease.unbounded (leases disabled)', () => {
  it('never expires and never needs renewal; expiry is 0n', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.unbounded(undefined, clock)
    expect(lease.epoch.equals(Epoch.ZERO)).toBe(true)
    expect(lease.expiry).toBe(0n)
    expect(lease.leasesEnabled).toBe(false)
    expect(lease.config).toBeNull()
    clock.set(U64_MAX)
    expect(lease.isExpired()).toBe(false)
    expect(lease.isExpiredWithGrace()).toBe(false)
    expect(lease.needsRenewal()).toBe(false)
    expect(() => lease.validateForTick()).not.toThrow()
  })

  it('keeps the given epoch as is (no restart renewal)', () => {
    expect(Lease.unbounded(new Epoch(3n, 7n)).epoch.toString()).toBe('(3,7)')
    expect(Lease.unbounded().epoch.toString()).toBe('(0,0)')
  })

  it('still runs the state machine: validateForTick checks state only', () => {
    const lease = Lease.unbounded(Epoch.ZERO, new ManualClock(T0))
    lease.beginHandoff()
    expect(caught(() => lease.validateForTick()).code).toBe('NOT_ACTIVE_OWNER')
    expect(lease.revertHandoff().toString()).toBe('(0,1)')
    expect(lease.expiry).toBe(0n)
    lease.enterRecovery('operator said so')
    expect(lease.recover().toString()).toBe('(0,2)')
    expect(lease.expiry).toBe(0n)
    expect(lease.renew().toString()).toBe('(0,3)')
    expect(lease.expiry).toBe(0n)
    lease.retire()
    expect(caught(() => lease.renew()).code).toBe('NOT_ACTIVE_OWNER')
  })

  it('refuses a non-Epoch', () => {
    expect(() => Lease.unbounded('(0,0)' as unknown as Epoch)).toThrow(TypeError)
  })
})

describe('Lease.restore', () => {
  it('rebuilds exact state with no renewal applied', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.restore(new Epoch(U64_MAX, U64_MAX), (1n << 63n) - 1n, 'HANDOFF_PENDING', DEFAULT_LEASE_CONFIG, clock)
    expect(lease.epoch.toString()).toBe(`(${U64_MAX},${U64_MAX})`)
    expect(lease.expiry).toBe((1n << 63n) - 1n)
    expect(lease.state).toBe('HANDOFF_PENDING')
    expect(lease.recoveryReason).toBeNull()
  })

  it('keeps a recovery reason, with a default', () => {
    expect(Lease.restore(Epoch.ZERO, 1n, 'RECOVERY_REQUIRED', DEFAULT_LEASE_CONFIG, undefined, 'peer vanished').recoveryReason)
      .toBe('peer vanished')
    expect(Lease.restore(Epoch.ZERO, 1n, 'RECOVERY_REQUIRED', DEFAULT_LEASE_CONFIG).recoveryReason)
      .toBe('restored in RECOVERY_REQUIRED')
  })

  it('restores a disabled lease from config null', () => {
    const lease = Lease.restore(new Epoch(1n, 0n), 0n, 'ACTIVE_OWNER', null)
    expect(lease.leasesEnabled).toBe(false)
    expect(lease.isExpired()).toBe(false)
  })

  it('validates every input, naming it', () => {
    const cfg = DEFAULT_LEASE_CONFIG
    expect(() => Lease.restore({} as Epoch, 0n, 'ACTIVE_OWNER', cfg)).toThrow(/^epoch/)
    expect(() => Lease.restore(Epoch.ZERO, 1n << 63n, 'ACTIVE_OWNER', cfg)).toThrow(/^expiry/)
    expect(() => Lease.restore(Epoch.ZERO, -(1n << 63n) - 1n, 'ACTIVE_OWNER', cfg)).toThrow(/^expiry/)
    expect(() => Lease.restore(Epoch.ZERO, 5 as unknown as bigint, 'ACTIVE_OWNER', cfg)).toThrow(/^expiry/)
    expect(() => Lease.restore(Epoch.ZERO, 0n, 'OWNER' as AuthorityState, cfg)).toThrow(/^state/)
    expect(() => Lease.restore(Epoch.ZERO, 0n, 'ACTIVE_OWNER', { ...cfg, gracePeriodMs: -1 })).toThrow(/^gracePeriodMs/)
    expect(() => Lease.restore(Epoch.ZERO, 5n, 'ACTIVE_OWNER', null)).toThrow(/^expiry must be 0/)
  })

  it('accepts the i64 edges of expiry', () => {
    expect(Lease.restore(Epoch.ZERO, -(1n << 63n), 'ACTIVE_OWNER', DEFAULT_LEASE_CONFIG).isExpiredWithGrace()).toBe(true)
  })
})

describe('toJSON', () => {
  it('renders 64-bit values as decimal strings', () => {
    const clock = new ManualClock(T0)
    const lease = Lease.fromCheckpoint(new Epoch(U64_MAX, (1n << 53n) + 1n), DEFAULT_LEASE_CONFIG, clock)
    expect(JSON.parse(JSON.stringify(lease))).toEqual({
      state: 'ACTIVE_OWNER',
      majorVersion: '18446744073709551615',
      leaseGeneration: '9007199254740994',
      leaseExpiry: (T0 + DURATION).toString(),
      leasesEnabled: true,
      recoveryReason: null
    })
  })
})
