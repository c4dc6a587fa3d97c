/**
 * Serving a recorded tick back to an agent (SPEC §12 "Replay of one tick").
 *
 * A `ReplayFeed` hands out the recorded entries in order. A call whose id or
 * payload does not fit fails the replay; so do entries left over at the end.
 * A failure is sticky: the hostcall throws (ending `agent_tick`), and even an
 * agent that catches the exception cannot make the replay pass, because the
 * feed remembers the first failure.
 */
import { ENTRY_HEADER, type ObservationEntry, countEntries, encodeEntries, hostcallName } from './event-log.js'

/** Thrown inside a replayed hostcall to stop the tick; the reason is in `ReplayFeed.failure`. */
export class ReplayAbort extends Error {
  override readonly name = 'ReplayAbort'
}

export class ReplayFeed {
  // The packed log is served in place (issue 17): a tick of half a million
  // clock reads must not become half a million objects in a worker's heap.
  private readonly packed: Uint8Array
  private readonly view: DataView
  private readonly count: number
  private position = 0
  private offset = 0
  private previousOffset = 0
  private firstFailure: string | null = null

  /** `log`: the packed entries (`encodeEntries` / `TickRecorder.end()`), or the entries themselves. */
  constructor(log: Uint8Array | readonly ObservationEntry[]) {
    this.packed = log instanceof Uint8Array ? log : encodeEntries(log)
    this.view = new DataView(this.packed.buffer, this.packed.byteOffset, this.packed.byteLength)
    this.count = countEntries(this.packed)
  }

  get failure(): string | null {
    return this.firstFailure
  }

  get remaining(): number {
    return this.count - this.position
  }

  /** The id of the next entry without taking it (-1 when none is left). */
  peekId(): number {
    return this.position < this.count ? this.view.getUint16(this.offset, true) : -1
  }

  /** Puts the last taken entry back (an HTTP response that did not fit stays for the retry, SPEC §13). */
  untake(): void {
    if (this.position > 0 && this.firstFailure === null && this.offset !== this.previousOffset) {
      this.position--
      this.offset = this.previousOffset
    }
  }

  /** Fails the replay with `reason` (throws `ReplayAbort`). */
  failWith(reason: string): never {
    return this.fail(reason)
  }

  /** The next entry's payload, which must come from hostcall `id`. */
  take(id: number): Uint8Array {
    if (this.firstFailure !== null) throw new ReplayAbort(this.firstFailure)
    if (this.position >= this.count) {
      return this.fail(`event log exhausted at position ${this.position}, expected ${hostcallName(id)} (${id})`)
    }
    const hostcallId = this.view.getUint16(this.offset, true)
    if (hostcallId !== id) {
      return this.fail(`hostcall mismatch at position ${this.position}: expected ${id} (${hostcallName(id)}), got ${hostcallId} (${hostcallName(hostcallId)})`)
    }
    const length = this.view.getUint32(this.offset + 2, true)
    const start = this.offset + ENTRY_HEADER
    this.previousOffset = this.offset
    this.offset = start + length
    this.position++
    return this.packed.subarray(start, start + length)
  }

  /** The next entry as a u64 LE value (`clock_now`, `wallet_balance`, `clock_time_get`). */
  takeU64(id: number): bigint {
    const payload = this.takeSized(id, 8)
    return new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0, true)
  }

  /** The next entry, whose payload must be exactly `length` bytes (`rand_bytes`, `random_get`). */
  takeSized(id: number, length: number): Uint8Array {
    const at = this.position
    const payload = this.take(id)
    if (payload.byteLength !== length) {
      return this.fail(`${hostcallName(id)} payload length ${payload.byteLength} at position ${at}, expected ${length}`)
    }
    return payload
  }

  /** The next entry, whose payload must equal `bytes` (`log_emit`: the agent must say the same thing). */
  takeEqual(id: number, bytes: Uint8Array): void {
    const at = this.position
    const payload = this.take(id)
    if (payload.byteLength !== bytes.byteLength || !payload.every((byte, i) => byte === bytes[i])) {
      this.fail(`${hostcallName(id)} payload at position ${at} differs from the recorded one`)
    }
  }

  /** Ends the replay: the first failure, or leftover entries, or `null` when every entry was served. */
  finish(): string | null {
    if (this.firstFailure !== null) return this.firstFailure
    if (this.remaining > 0) this.firstFailure = `replay: ${this.remaining} unconsumed event log entries`
    return this.firstFailure
  }

  private fail(reason: string): never {
    this.firstFailure ??= reason
    throw new ReplayAbort(this.firstFailure)
  }
}

/** Index of the first differing byte of two states, or -1 when equal (a length difference counts at the shorter length). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength)
  // Issue 21: equal blocks are skipped by a native compare (a JS loop over 16 MiB took tens of ms on the
  // hand-off's path, on both sides); the first block that differs is then scanned byte by byte.
  let from = 0
  const x = Buffer.from(a.buffer, a.byteOffset, n)
  const y = Buffer.from(b.buffer, b.byteOffset, n)
  while (from < n) {
    const end = Math.min(from + COMPARE_BLOCK, n)
    if (x.compare(y, from, end, from, end) !== 0) break
    from = end
  }
  for (let i = from; i < n; i++) if (a[i] !== b[i]) return i
  return a.byteLength === b.byteLength ? -1 : n
}

const COMPARE_BLOCK = 256 * 1024
