import { Epoch, U64_MAX } from '@igor/epoch'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AUTHORITY_STATES, AuthorityError, AuthorityState, canTick, DEFAULT_LEASE_CONFIG, isAllowedTransition,
  isAuthorityState, Lease, ManualClock
} from './index.js'

const { ACTIVE_OWNER: AO, HANDOFF_INITIATED: HI, HANDOFF_PENDING: HP, RETIRED: RT, RECOVERY_REQUIRED: RR } = AuthorityState
const T0 = 1_700_000_000_000_000_000n
const DURATION = 60_000_000_000n

// SPEC §3, written out independently of the implementation's table.
const ALLOWED = new Set([
  `${AO}>${HI}`, `${HI}>${HP}`, `${HP}>${RT}`, `${HI}>${RT}`, `${AO}>${RT}`,
  ...AUTHORITY_STATES.map((s) => `${s}>${RR}`),
  `${RR}>${AO}`, `${HI}>${AO}`, `${HP}>${AO}`
])

type Method = 'beginHandoff' | 'markPending' | 'retire' | 'revertHandoff' | 'enterRecovery' | 'recover'

/** Each transition method, the state it leads to, and the states it may start from. */
const METHODS: ReadonlyArray<{ method: Method, to: AuthorityState, from: readonly AuthorityState[] }> = [
  { method: 'beginHandoff', to: HI, from: [AO] },
  { method: 'markPending', to: HP, from: [HI] },
  { method: 'retire', to: RT, from: [HP, HI, AO] },
  { method: 'revertHandoff', to: AO, from: [HI, HP] },
  { method: 'enterRecovery', to: RR, from: AUTHORITY_STATES },
  { method: 'recover', to: AO, from: [RR] }
]

function call(lease: Lease, method: Method): unknown {
  return method === 'enterRecovery' ? lease.enterRecovery('test') : lease[method]()
}

function leaseIn(state: AuthorityState, clock = new ManualClock(T0)): Lease {
  return Lease.restore(new Epoch(5n, 9n), T0 + 1_000n, state, DEFAULT_LEASE_CONFIG, clock)
}

function snapshot(lease: Lease): string {
  return JSON.stringify(lease)
}

describe('AuthorityState', () => {
  it('has exactly the five SPEC values, as strings equal to their names', () => {
    expect(Object.keys(AuthorityState)).toEqual(['ACTIVE_OWNER', 'HANDOFF_INITIATED', 'HANDOFF_PENDING', 'RETIRED', 'RECOVERY_REQUIRED'])
    for (const [key, value] of Object.entries(AuthorityState)) expect(value).toBe(key)
    expect(Object.isFrozen(AuthorityState)).toBe(true)
    expect(AUTHORITY_STATES).toEqual(Object.values(AuthorityState))
  })

  it('only ACTIVE_OWNER may tick', () => {
    expect(AUTHORITY_STATES.filter(canTick)).toEqual([AO])
  })

  it('isAuthorityState accepts exactly the five strings', () => {
    for (const s of AUTHORITY_STATES) expect(isAuthorityState(s)).toBe(true)
    for (const v of ['active_owner', '', 'toString', 0, null, undefined, {}]) expect(isAuthorityState(v)).toBe(false)
  })
})

describe('transition table (5×5)', () => {
  const pairs = AUTHORITY_STATES.flatMap((from) => AUTHORITY_STATES.map((to) => [from, to] as const))

  it('has 13 allowed and 12 refused pairs', () => {
    expect(pairs.filter(([f, t]) => isAllowedTransition(f, t))).toHaveLength(13)
  })

  it.each(pairs)('%s → %s matches SPEC §3 and the methods', (from, to) => {
    const allowed = ALLOWED.has(`${from}>${to}`)
    expect(isAllowedTransition(from, to)).toBe(allowed)

    const methods = METHODS.filter((m) => m.to === to)
    const working = methods.filter(({ method }) => {
      const lease = leaseIn(from)
      try {
        call(lease, method)
      } catch (error) {
        // A refusal is always INVALID_TRANSITION, names both states, and changes nothing.
        expect(error).toBeInstanceOf(AuthorityError)
        expect((error as AuthorityError).code).toBe('INVALID_TRANSITION')
        expect((error as AuthorityError).message).toContain(`${from} → ${to}`)
        expect(snapshot(lease)).toBe(snapshot(leaseIn(from)))
        return false
      }
      expect(lease.state).toBe(to)
      return true
    })
    // Allowed pairs are reachable through some method; refused pairs through none.
    expect(working.length > 0).toBe(allowed)
  })

  it.each(METHODS.flatMap(({ method, from }) => AUTHORITY_STATES.map((s) => [method, s, from.includes(s)] as const)))(
    '%s from %s works: %s',
    (method, state, works) => {
      const lease = leaseIn(state)
      if (works) {
        expect(() => call(lease, method)).not.toThrow()
      } else {
        const before = snapshot(lease)
        expect(() => call(lease, method)).toThrow(AuthorityError)
        expect(snapshot(lease)).toBe(before)
        expect(lease.state).toBe(state)
        expect(lease.epoch.toString()).toBe('(5,9)')
        expect(lease.expiry).toBe(T0 + 1_000n)
      }
    }
  )

  it('rejects a typo state in isAllowedTransition', () => {
    expect(isAllowedTransition('NOPE' as AuthorityState, RR)).toBe(false)
  })
})

describe('hand-off paths', () => {
  it('successful hand-off: ACTIVE_OWNER → HANDOFF_INITIATED → HANDOFF_PENDING → RETIRED, epoch unchanged', () => {
    const lease = Lease.bootstrap(DEFAULT_LEASE_CONFIG, new ManualClock(T0))
    lease.beginHandoff()
    expect(lease.state).toBe(HI)
    lease.markPending()
    expect(lease.state).toBe(HP)
    lease.retire()
    expect(lease.state).toBe(RT)
    expect(lease.epoch.equals(Epoch.ZERO)).toBe(true)
  })

  it.each([HI, HP])('revertHandoff from %s bumps the generation with a fresh expiry', (state) => {
    const clock = new ManualClock(T0)
    const lease = leaseIn(state, clock)
    clock.advanceMs(5_000)
    const epoch = lease.revertHandoff()
    expect(epoch.toString()).toBe('(5,10)')
    expect(lease.epoch).toBe(epoch)
    expect(lease.state).toBe(AO)
    expect(lease.expiry).toBe(T0 + 5_000_000_000n + DURATION)
  })

  it('revertHandoff at generation 2^64-1 throws RangeError and changes nothing', () => {
    const lease = Lease.restore(new Epoch(0n, U64_MAX), T0, HP, DEFAULT_LEASE_CONFIG, new ManualClock(T0))
    expect(() => lease.revertHandoff()).toThrow(RangeError)
    expect(lease.state).toBe(HP)
    expect(lease.expiry).toBe(T0)
  })
})

describe('recovery', () => {
  it('enterRecovery keeps the reason and is idempotent (first reason wins)', () => {
    const lease = leaseIn(HP)
    lease.enterRecovery('no reply from target')
    expect(lease.state).toBe(RR)
    expect(lease.recoveryReason).toBe('no reply from target')
    lease.enterRecovery('second opinion')
    expect(lease.recoveryReason).toBe('no reply from target')
    expect(lease.epoch.toString()).toBe('(5,9)')
  })

  it('recover bumps the generation, sets a fresh expiry and clears the reason', () => {
    const clock = new ManualClock(T0)
    const lease = leaseIn(AO, clock)
    lease.enterRecovery('ambiguous')
    clock.advanceMs(1_000_000)
    expect(lease.recover().toString()).toBe('(5,10)')
    expect(lease.state).toBe(AO)
    expect(lease.expiry).toBe(T0 + 1_000_000_000_000n + DURATION)
    expect(lease.recoveryReason).toBeNull()
    expect(() => lease.validateForTick()).not.toThrow()
  })

  it('RETIRED may enter recovery (SPEC: ANY → RECOVERY_REQUIRED)', () => {
    const lease = leaseIn(RT)
    lease.enterRecovery('operator inspection')
    expect(lease.state).toBe(RR)
  })
})

describe('properties', () => {
  type Op = Method | 'renew' | 'validateForTick' | 'advance'
  const opArb = fc.oneof(
    fc.constantFrom<Op>('beginHandoff', 'markPending', 'retire', 'revertHandoff', 'enterRecovery', 'recover', 'renew', 'validateForTick')
      .map((op) => ({ op, ms: 0 })),
    fc.integer({ min: 0, max: 100_000 }).map((ms): { op: Op, ms: number } => ({ op: 'advance', ms }))
  )
  const u64Below = fc.bigInt({ min: 0n, max: U64_MAX - 1_000n })

  it('random operation sequences never lower the epoch or the expiry, and refusals change nothing', () => {
    fc.assert(fc.property(u64Below, u64Below, fc.array(opArb, { maxLength: 60 }), (major, generation, ops) => {
      const clock = new ManualClock(T0)
      const lease = Lease.fromCheckpoint(new Epoch(major, generation), DEFAULT_LEASE_CONFIG, clock)
      expect(lease.epoch.supersedes(new Epoch(major, generation))).toBe(true)
      for (const { op, ms } of ops) {
        const before = { epoch: lease.epoch, expiry: lease.expiry, state: lease.state, json: snapshot(lease) }
        let refused: AuthorityError | null = null
        try {
          if (op === 'advance') clock.advanceMs(ms)
          else if (op === 'renew' || op === 'validateForTick') lease[op]()
          else call(lease, op)
        } catch (error) {
          expect(error).toBeInstanceOf(AuthorityError)
          refused = error as AuthorityError
        }
        expect(Epoch.compare(lease.epoch, before.epoch)).toBeGreaterThanOrEqual(0)
        expect(lease.expiry).toBeGreaterThanOrEqual(before.expiry)
        expect(isAuthorityState(lease.state)).toBe(true)
        if (refused !== null) {
          if (refused.code === 'LEASE_EXPIRED' && op === 'validateForTick') {
            expect(lease.state).toBe(RR)
          } else {
            expect(snapshot(lease)).toBe(before.json)
          }
        } else if (before.state !== lease.state) {
          expect(isAllowedTransition(before.state, lease.state)).toBe(true)
        }
        // The epoch moves only by renewal/revert/recovery, each exactly one generation.
        if (!lease.epoch.equals(before.epoch)) {
          expect(lease.epoch.equals(before.epoch.renewed())).toBe(true)
          expect(lease.state).toBe(AO)
        }
        if (op === 'validateForTick' && refused === null) expect(canTick(lease.state)).toBe(true)
      }
    }), { numRuns: 300 })
  })
})
