import { Epoch } from '@igor/epoch'
import { type Clock, systemClock } from './clock.js'
import { type LeaseConfig, msToNs, renewalThresholdNs, validateLeaseConfig } from './config.js'
import { AuthorityError } from './errors.js'
import { AuthorityState, isAllowedTransition, isAuthorityState } from './state.js'

const { ACTIVE_OWNER, HANDOFF_INITIATED, HANDOFF_PENDING, RETIRED, RECOVERY_REQUIRED } = AuthorityState

/** Checkpoints store the expiry as i64 Unix ns (SPEC §4). */
const I64_MAX = (1n << 63n) - 1n
const I64_MIN = -(1n << 63n)

/** A config turned into exact nanoseconds once, so every check is integer math. */
interface Timing {
  readonly config: Readonly<LeaseConfig>
  readonly durationNs: bigint
  readonly graceNs: bigint
  readonly thresholdNs: bigint
}

function timingOf(config: LeaseConfig): Timing {
  const valid = validateLeaseConfig(config)
  return {
    config: valid,
    durationNs: msToNs(valid.durationMs),
    graceNs: msToNs(valid.gracePeriodMs),
    thresholdNs: renewalThresholdNs(valid)
  }
}

function checkEpoch(epoch: Epoch): Epoch {
  if (!(epoch instanceof Epoch)) throw new TypeError('epoch must be an Epoch')
  return epoch
}

/**
 * The time-bounded right to tick one agent (SPEC §3 "Lease"), together with its
 * authority state. Every refused operation throws `AuthorityError` and leaves
 * state, epoch and expiry unchanged; the one exception is `validateForTick()`
 * past grace, which moves to `RECOVERY_REQUIRED` before refusing.
 */
export class Lease {
  readonly #clock: Clock
  /** null = leases disabled (`Lease.unbounded`, CLI `--lease-duration 0`). */
  readonly #timing: Timing | null
  #epoch: Epoch
  #expiry: bigint
  #state: AuthorityState
  #recoveryReason: string | null

  private constructor(
    epoch: Epoch,
    expiry: bigint,
    state: AuthorityState,
    timing: Timing | null,
    clock: Clock,
    recoveryReason: string | null
  ) {
    this.#epoch = epoch
    this.#expiry = expiry
    this.#state = state
    this.#timing = timing
    this.#clock = clock
    this.#recoveryReason = recoveryReason
  }

  /** First load, no checkpoint: `(0,0)`, expiry now + duration, `ACTIVE_OWNER`. */
  static bootstrap(config: LeaseConfig, clock: Clock = systemClock): Lease {
    const timing = timingOf(config)
    return new Lease(Epoch.ZERO, freshExpiry(timing, clock.nowNs()), ACTIVE_OWNER, timing, clock, null)
  }

  /**
   * Restart: the checkpoint's `(M,G)` comes back renewed once as `(M,G+1)` with a
   * fresh expiry, so a restart never lowers the epoch and anything the previous
   * run might still have written under `(M,G)` is fenced. `RangeError` at G = 2^64-1.
   */
  static fromCheckpoint(epoch: Epoch, config: LeaseConfig, clock: Clock = systemClock): Lease {
    const timing = timingOf(config)
    const renewed = checkEpoch(epoch).renewed()
    return new Lease(renewed, freshExpiry(timing, clock.nowNs()), ACTIVE_OWNER, timing, clock, null)
  }

  /** Target side of a migration: `(sourceMajor+1, 0)`, fresh expiry. `RangeError` at 2^64-1. */
  static fromMigration(sourceMajorVersion: bigint, config: LeaseConfig, clock: Clock = systemClock): Lease {
    const timing = timingOf(config)
    const epoch = new Epoch(sourceMajorVersion, 0n).transferred()
    return new Lease(epoch, freshExpiry(timing, clock.nowNs()), ACTIVE_OWNER, timing, clock, null)
  }

  /**
   * Leases disabled (CLI `--lease-duration 0`): the same state machine, but the
   * lease never expires, never needs renewal, `expiry` is 0n, and the given epoch
   * is kept as is (no restart renewal), so a node without leases stays at `(0,0)`.
   */
  static unbounded(epoch: Epoch = Epoch.ZERO, clock: Clock = systemClock): Lease {
    return new Lease(checkEpoch(epoch), 0n, ACTIVE_OWNER, null, clock, null)
  }

  /**
   * Rebuilds an exact lease (tests; a durable authority record) with no renewal
   * applied. `config` null means leases disabled, and then `expiry` must be 0n.
   */
  static restore(
    epoch: Epoch,
    expiry: bigint,
    state: AuthorityState,
    config: LeaseConfig | null,
    clock: Clock = systemClock,
    recoveryReason?: string
  ): Lease {
    checkEpoch(epoch)
    if (typeof expiry !== 'bigint' || expiry < I64_MIN || expiry > I64_MAX) {
      throw new RangeError(`expiry must be a bigint in the i64 range (Unix ns), got ${String(expiry)}`)
    }
    if (!isAuthorityState(state)) {
      throw new RangeError(`state must be one of ${Object.values(AuthorityState).join(', ')}, got ${String(state)}`)
    }
    const timing = config === null ? null : timingOf(config)
    if (timing === null && expiry !== 0n) {
      throw new RangeError(`expiry must be 0 when leases are disabled (config null), got ${expiry}`)
    }
    const reason = state === RECOVERY_REQUIRED ? (recoveryReason ?? 'restored in RECOVERY_REQUIRED') : null
    return new Lease(epoch, expiry, state, timing, clock, reason)
  }

  get epoch(): Epoch {
    return this.#epoch
  }

  /** Unix nanoseconds; 0n when leases are disabled. */
  get expiry(): bigint {
    return this.#expiry
  }

  get state(): AuthorityState {
    return this.#state
  }

  /** The validated, frozen config; null when leases are disabled. */
  get config(): Readonly<LeaseConfig> | null {
    return this.#timing?.config ?? null
  }

  get leasesEnabled(): boolean {
    return this.#timing !== null
  }

  /** Why the lease is in `RECOVERY_REQUIRED` (the first reason given); null in any other state. */
  get recoveryReason(): string | null {
    return this.#recoveryReason
  }

  /** now > expiry. Always false with leases disabled. */
  isExpired(): boolean {
    return this.#timing !== null && this.#clock.nowNs() > this.#expiry
  }

  /** now > expiry + grace. Always false with leases disabled. */
  isExpiredWithGrace(): boolean {
    return this.#timing !== null && this.#expiredWithGrace(this.#clock.nowNs(), this.#timing)
  }

  /**
   * remaining ≤ duration × renewalWindow, in whole ns (see `renewalThresholdNs`).
   * A pure time question: it does not look at the state. False with leases disabled.
   * `nowNs`: a reading of this lease's clock already taken (`validateForTick()`'s).
   */
  needsRenewal(nowNs?: bigint): boolean {
    return this.#timing !== null && this.#expiry - (nowNs ?? this.#clock.nowNs()) <= this.#timing.thresholdNs
  }

  /**
   * Renews: only in `ACTIVE_OWNER` (else `NOT_ACTIVE_OWNER`) and not past
   * expiry + grace (else `LEASE_EXPIRED`, state unchanged — the tick loop's
   * `validateForTick()` is what moves to recovery). Generation+1, expiry =
   * now + duration. Returns the new epoch, which the caller must make durable
   * before ticking under it (SPEC §5).
   */
  renew(): Epoch {
    this.#requireActiveOwner('renew')
    const now = this.#clock.nowNs()
    if (this.#timing !== null && this.#expiredWithGrace(now, this.#timing)) {
      throw new AuthorityError('LEASE_EXPIRED', `cannot renew: ${this.#expiredMessage(now)}`)
    }
    this.#advance(ACTIVE_OWNER, now)
    return this.#epoch
  }

  /**
   * Call before every tick (SPEC §5). Refuses outside `ACTIVE_OWNER`
   * (`NOT_ACTIVE_OWNER`). Past expiry + grace it moves to `RECOVERY_REQUIRED`
   * and refuses (`LEASE_EXPIRED`). Inside grace ticking is allowed.
   * Returns the clock reading it judged by, for a `needsRenewal(nowNs)` on
   * the same reading (the tick loop's live path reads the clock once).
   */
  validateForTick(): bigint {
    this.#requireActiveOwner('tick')
    const now = this.#clock.nowNs()
    if (this.#timing !== null && this.#expiredWithGrace(now, this.#timing)) {
      const message = this.#expiredMessage(now)
      this.#state = RECOVERY_REQUIRED
      this.#recoveryReason = message
      throw new AuthorityError('LEASE_EXPIRED', `cannot tick: ${message}; now RECOVERY_REQUIRED`)
    }
    return now
  }

  /** `ACTIVE_OWNER → HANDOFF_INITIATED`: migration started, stop producing state. */
  beginHandoff(): void {
    this.#move('beginHandoff', HANDOFF_INITIATED, [ACTIVE_OWNER])
  }

  /** `HANDOFF_INITIATED → HANDOFF_PENDING`: the package was sent. */
  markPending(): void {
    this.#move('markPending', HANDOFF_PENDING, [HANDOFF_INITIATED])
  }

  /** `HANDOFF_PENDING | HANDOFF_INITIATED → RETIRED` (target confirmed), or `ACTIVE_OWNER → RETIRED` (terminated). */
  retire(): void {
    this.#move('retire', RETIRED, [HANDOFF_PENDING, HANDOFF_INITIATED, ACTIVE_OWNER])
  }

  /**
   * `HANDOFF_INITIATED | HANDOFF_PENDING → ACTIVE_OWNER`, only after the target's
   * definite rejection (it never took authority). Generation+1, fresh expiry.
   */
  revertHandoff(): Epoch {
    this.#move('revertHandoff', ACTIVE_OWNER, [HANDOFF_INITIATED, HANDOFF_PENDING])
    return this.#epoch
  }

  /**
   * `ANY → RECOVERY_REQUIRED`: authority is ambiguous, halt. Entering it again
   * is a no-op that keeps the first reason.
   */
  enterRecovery(reason: string): void {
    if (this.#state === RECOVERY_REQUIRED) return
    this.#state = RECOVERY_REQUIRED
    this.#recoveryReason = String(reason)
  }

  /**
   * `RECOVERY_REQUIRED → ACTIVE_OWNER`, the explicit operator action. Generation+1
   * and a fresh expiry, so anything written under the old epoch is fenced.
   */
  recover(): Epoch {
    this.#move('recover', ACTIVE_OWNER, [RECOVERY_REQUIRED])
    return this.#epoch
  }

  /** Status form (SPEC §6): 64-bit values as decimal strings. */
  toJSON(): {
    state: AuthorityState
    majorVersion: string
    leaseGeneration: string
    leaseExpiry: string
    leasesEnabled: boolean
    recoveryReason: string | null
  } {
    return {
      state: this.#state,
      majorVersion: this.#epoch.majorVersion.toString(),
      leaseGeneration: this.#epoch.leaseGeneration.toString(),
      leaseExpiry: this.#expiry.toString(),
      leasesEnabled: this.leasesEnabled,
      recoveryReason: this.#recoveryReason
    }
  }

  #expiredWithGrace(now: bigint, timing: Timing): boolean {
    return now > this.#expiry + timing.graceNs
  }

  #expiredMessage(now: bigint): string {
    const grace = this.#timing?.config.gracePeriodMs ?? 0
    return `lease ${this.#epoch} expired beyond grace (expiry ${this.#expiry} ns + ${grace} ms grace < now ${now} ns)`
  }

  #requireActiveOwner(what: string): void {
    if (this.#state !== ACTIVE_OWNER) {
      throw new AuthorityError('NOT_ACTIVE_OWNER', `cannot ${what}: authority state is ${this.#state}, not ACTIVE_OWNER`)
    }
  }

  /** One guarded state change; a move into ACTIVE_OWNER always bumps the generation (SPEC §3). */
  #move(operation: string, to: AuthorityState, from: readonly AuthorityState[]): void {
    const current = this.#state
    if (!from.includes(current) || !isAllowedTransition(current, to)) {
      throw new AuthorityError(
        'INVALID_TRANSITION',
        `invalid authority transition ${current} → ${to} (${operation}); allowed from ${from.join(' | ')}`
      )
    }
    if (to === ACTIVE_OWNER) {
      this.#advance(to, this.#clock.nowNs())
    } else {
      this.#state = to
    }
  }

  /** Generation+1 and a fresh expiry; computes everything before assigning, so a RangeError changes nothing. */
  #advance(to: AuthorityState, now: bigint): void {
    const epoch = this.#epoch.renewed()
    const expiry = this.#timing === null ? 0n : freshExpiry(this.#timing, now)
    this.#epoch = epoch
    this.#expiry = expiry
    this.#state = to
    this.#recoveryReason = null
  }
}

/** now + duration, saturated at the i64 maximum a checkpoint can hold (a shorter lease is always safe). */
function freshExpiry(timing: Timing, now: bigint): bigint {
  const expiry = now + timing.durationNs
  return expiry > I64_MAX ? I64_MAX : expiry
}
