/**
 * The per-tick event log (SPEC §12 "Observations and replay").
 *
 * During `agent_tick` every observation hostcall appends one entry: the id of
 * the hostcall and the value the agent observed. Replaying the tick with the
 * same values must produce the same state; anything else is non-determinism.
 *
 * Inside the worker the log is kept packed — `[u16 id LE][u32 length LE][payload]`
 * per entry in one reusable arena — so recording costs a copy and no objects,
 * and the tick reply carries one `Uint8Array`. `decodeEntries` unpacks it
 * when someone needs the entries (a replay, a migration package).
 */

/** Hostcall ids: 1–9 are the reference's, 10 and above are ours. */
export const HostcallId = {
  /** `igor.clock_now`: the value, u64 LE. */
  ClockNow: 1,
  /** `igor.rand_bytes`: the bytes written (not for length 0 or refused calls). */
  RandBytes: 2,
  /** `igor.log_emit`: the message bytes as read (not for length 0, > 1 MiB or out of bounds). */
  LogEmit: 3,
  /** `igor.wallet_balance`: the value, u64 LE. */
  WalletBalance: 4,
  /** `igor.wallet_receipt_count` (SPEC §15): the count, u32 LE. */
  WalletReceiptCount: 5,
  /** `igor.wallet_receipt` (SPEC §15): the receipt's bytes, recorded only on success. */
  WalletReceipt: 6,
  /** `igor.node_price` (SPEC §15): the node's price per second in microcents, u64 LE. */
  NodePrice: 7,
  /** `igor.http_request` (SPEC §13): `[status u32 LE][body]`. */
  HttpRequest: 8,
  /** `igor.wallet_pay` (SPEC §15): `[amount u64 LE][receipt]`, recorded only on success. */
  WalletPay: 9,
  /** Ours: WASI `clock_time_get` inside a tick, the time written, u64 LE. */
  WasiClockTimeGet: 10,
  /** Ours: WASI `random_get` inside a tick, the bytes written. */
  WasiRandomGet: 11,
  /**
   * Ours: an `http_request` that answered with an error (< 0), which the
   * reference does not record: `[result i32 LE]`, plus the 4-byte size hint
   * it wrote at `resp_ptr` for -5. Without it a timeout or an output-gate
   * refusal could not be replayed.
   */
  HttpFailure: 12,
  /** Ours (SPEC §16): `igor.request_move`, its i32 answer as u32 LE. */
  RequestMove: 13,
  /**
   * Ours: a `wallet_pay` that answered < 0, which the reference does not
   * record: `[result i32 LE]`, plus the 4-byte hint it wrote for −5. Without
   * it a refusal by the output gate or the budget could not be replayed.
   */
  WalletPayFailure: 14
} as const

export type HostcallIdName = keyof typeof HostcallId

/** The highest id the reference can replay; a tick using a higher one travels without `ReplayData` (SPEC §12). */
export const REFERENCE_MAX_HOSTCALL_ID = 9

const NAMES: Readonly<Record<number, string>> = {
  1: 'clock_now',
  2: 'rand_bytes',
  3: 'log_emit',
  4: 'wallet_balance',
  5: 'wallet_receipt_count',
  6: 'wallet_receipt',
  7: 'node_price',
  8: 'http_request',
  9: 'wallet_pay',
  10: 'clock_time_get',
  11: 'random_get',
  12: 'http_request (failed)',
  13: 'request_move',
  14: 'wallet_pay (failed)'
}

/** A readable name for a hostcall id, for replay failure reasons. */
export function hostcallName(id: number): string {
  return NAMES[id] ?? `hostcall ${id}`
}

export interface ObservationEntry {
  readonly hostcallId: number
  readonly payload: Uint8Array
}

/** One tick's observations, in the order the agent made them. */
export interface TickLog {
  readonly tickNumber: bigint
  readonly entries: readonly ObservationEntry[]
}

/** `u16 id ‖ u32 length` before each entry's payload. */
export const ENTRY_HEADER = 6
/**
 * Ours (SPEC §11 "Resources an agent controls"): a tick whose log would exceed
 * this is marked unrecordable instead of holding the worker's memory hostage
 * (64 MiB `rand_bytes` calls are legal). Such a tick is simply not replayed
 * (counted as skipped, never as diverged); it is not the agent's fault.
 */
export const MAX_TICK_LOG_BYTES = 16 * 1024 * 1024
/**
 * Ours: the same for the number of entries. A tick of 500 000 `clock_now`
 * calls is legal, but its replay would hold as many entries; past this cap
 * the tick is unreplayable (skipped), so a replay never fails for its size.
 */
export const MAX_TICK_LOG_ENTRIES = 65_536
/** The arena a recorder keeps between ticks; a bigger one is dropped after the tick that grew it. */
const KEPT_ARENA_BYTES = 64 * 1024

/** Little-endian u64 payload (`clock_now`, `wallet_balance`, `node_price`, `clock_time_get`). */
export function u64Payload(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true)
  return bytes
}

/**
 * Records one tick's observations into a reusable arena.
 * `begin()` … `record*()` … `end()`; calls outside a tick record nothing
 * (SPEC §12: calls outside `agent_tick` are not recorded).
 */
export class TickRecorder {
  private arena = new Uint8Array(4096)
  private view = new DataView(this.arena.buffer)
  private used = 0
  private active = false
  private overflowed = false
  private highestId = 0
  private entries = 0

  get recording(): boolean {
    return this.active
  }

  begin(): void {
    this.used = 0
    this.active = true
    this.overflowed = false
    this.highestId = 0
    this.entries = 0
  }

  record(id: number, payload: Uint8Array): void {
    const target = this.reserve(id, payload.byteLength)
    if (target >= 0) this.arena.set(payload, target)
  }

  recordU64(id: number, value: bigint): void {
    const target = this.reserve(id, 8)
    if (target >= 0) this.view.setBigUint64(target, BigInt.asUintN(64, value), true)
  }

  /**
   * Ends the tick. Returns the packed log (a copy, safe to transfer), or `null`
   * when the tick's log overflowed `MAX_TICK_LOG_BYTES` (the tick cannot be replayed).
   */
  end(): { packed: Uint8Array, highestId: number } | null {
    this.active = false
    const sealed = this.overflowed ? null : { packed: this.arena.slice(0, this.used), highestId: this.highestId }
    // One big tick must not pin its arena for the agent's lifetime (issue 17: 16 MiB per agent).
    if (this.arena.byteLength > KEPT_ARENA_BYTES) {
      this.arena = new Uint8Array(4096)
      this.view = new DataView(this.arena.buffer)
    }
    this.used = 0
    return sealed
  }

  private reserve(id: number, length: number): number {
    if (!this.active || this.overflowed) return -1
    const needed = this.used + ENTRY_HEADER + length
    if (needed > MAX_TICK_LOG_BYTES || this.entries >= MAX_TICK_LOG_ENTRIES) {
      this.overflowed = true
      return -1
    }
    if (needed > this.arena.byteLength) {
      let size = this.arena.byteLength * 2
      while (size < needed) size *= 2
      const grown = new Uint8Array(Math.min(size, MAX_TICK_LOG_BYTES))
      grown.set(this.arena.subarray(0, this.used))
      this.arena = grown
      this.view = new DataView(grown.buffer)
    }
    this.view.setUint16(this.used, id, true)
    this.view.setUint32(this.used + 2, length, true)
    this.used += ENTRY_HEADER
    const at = this.used
    this.used += length
    this.entries++
    if (id > this.highestId) this.highestId = id
    return at
  }
}

/** Packs entries in the recorder's format (for logs that arrive by migration or tests). */
export function encodeEntries(entries: readonly ObservationEntry[]): Uint8Array {
  let size = 0
  for (const entry of entries) size += ENTRY_HEADER + entry.payload.byteLength
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const entry of entries) {
    view.setUint16(at, entry.hostcallId, true)
    view.setUint32(at + 2, entry.payload.byteLength, true)
    out.set(entry.payload, at + ENTRY_HEADER)
    at += ENTRY_HEADER + entry.payload.byteLength
  }
  return out
}

/** Unpacks a recorder log. Payloads are views into `packed`. Throws `RangeError` on a malformed log. */
export function decodeEntries(packed: Uint8Array): ObservationEntry[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength)
  const entries: ObservationEntry[] = []
  let at = 0
  while (at < packed.byteLength) {
    if (at + ENTRY_HEADER > packed.byteLength) throw new RangeError(`event log truncated at byte ${at}`)
    const hostcallId = view.getUint16(at, true)
    const length = view.getUint32(at + 2, true)
    const start = at + ENTRY_HEADER
    if (start + length > packed.byteLength) throw new RangeError(`event log entry at byte ${at} runs past the end`)
    entries.push({ hostcallId, payload: packed.subarray(start, start + length) })
    at = start + length
  }
  return entries
}

/** How many entries a packed log holds (walks the headers, builds nothing). */
export function countEntries(packed: Uint8Array): number {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength)
  let count = 0
  for (let at = 0; at + ENTRY_HEADER <= packed.byteLength; at += ENTRY_HEADER + view.getUint32(at + 2, true)) count++
  return count
}

/** The highest hostcall id a log uses (0 for an empty log). */
export function highestHostcallId(entries: readonly ObservationEntry[]): number {
  let highest = 0
  for (const entry of entries) if (entry.hostcallId > highest) highest = entry.hostcallId
  return highest
}
