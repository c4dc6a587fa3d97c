import { msToNs } from './decimal.js'

/** A source of Unix time in nanoseconds. Injectable so tests drive time by hand (SPEC §3). */
export interface Clock {
  nowNs(): bigint
}

function dateNowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n
}

function hrtimeNs(): bigint {
  return process.hrtime.bigint()
}

/**
 * A clock anchored to wall time once, then advanced only by a monotonic source
 * (SPEC §3): a wall-clock step (NTP, an operator's `date -s`) after creation
 * neither extends nor cuts a lease. Both sources are injectable for tests.
 * Should the monotonic source ever run backwards, the clock holds still rather
 * than go back.
 */
export function createMonotonicClock(
  wallNowNs: () => bigint = dateNowNs,
  monoNowNs: () => bigint = hrtimeNs
): Clock {
  const wallAtStart = wallNowNs()
  const monoAtStart = monoNowNs()
  let last = wallAtStart
  return {
    nowNs(): bigint {
      const now = wallAtStart + (monoNowNs() - monoAtStart)
      if (now > last) last = now
      return last
    }
  }
}

/** The default clock: wall time read once when this module loads, plus `process.hrtime` elapsed. */
export const systemClock: Clock = createMonotonicClock()

/** 2023-11-14T22:13:20Z: a fixed, readable default start for hand-driven tests. */
const MANUAL_CLOCK_START_NS = 1_700_000_000n * 1_000_000_000n

/** A clock that moves only when told to; for tests in this and other packages. */
export class ManualClock implements Clock {
  #now: bigint

  constructor(startNs: bigint = MANUAL_CLOCK_START_NS) {
    if (typeof startNs !== 'bigint') throw new TypeError(`startNs must be a bigint, got ${typeof startNs}`)
    this.#now = startNs
  }

  nowNs(): bigint {
    return this.#now
  }

  /** Moves forward by `ns` (≥ 0). Use `set` to move backwards on purpose. */
  advanceNs(ns: bigint): this {
    if (typeof ns !== 'bigint' || ns < 0n) throw new RangeError(`ns must be a bigint >= 0, got ${String(ns)}`)
    this.#now += ns
    return this
  }

  /** Moves forward by `ms` (≥ 0; a number may have a fraction, converted exactly to whole ns). */
  advanceMs(ms: number | bigint): this {
    if (typeof ms === 'bigint') return this.advanceNs(ms * 1_000_000n)
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`ms must be finite and >= 0, got ${String(ms)}`)
    return this.advanceNs(msToNs(ms))
  }

  /** Jumps to an absolute time, forwards or backwards. */
  set(ns: bigint): this {
    if (typeof ns !== 'bigint') throw new TypeError(`ns must be a bigint, got ${typeof ns}`)
    this.#now = ns
    return this
  }
}
