/**
 * Observation hostcalls in their three modes (SPEC §12):
 * - recording: decorates the live implementation; while the recorder is active
 *   (inside `agent_tick`) each observation is appended to the tick's log;
 * - replaying: serves recorded values in order, prints nothing, reaches nothing;
 * - deterministic (`igord simulate --deterministic`): a fixed clock and a
 *   seeded PCG byte stream instead of the host's clock and randomness.
 *   `wallet_balance` and `node_price` need nothing here: the simulator sends
 *   its budget and its price option with every call, both repeatable.
 *
 * The decorators wrap whatever the worker's live implementation is, so the
 * rules for refused calls (lengths, bounds, errno) stay in one place.
 */
import { checkHttpInputSizes } from '../effects/http-abi.js'
import { HostcallId, type TickRecorder } from './event-log.js'
import type { GoPcg } from './pcg.js'
import type { ReplayFeed } from './replayer.js'

type HostFn = (...args: never[]) => unknown
export type HostFunctions = Record<string, HostFn>
export type MemoryRef = () => WebAssembly.Memory | null

/** SPEC §5: `rand_bytes` longer than this answers -2. */
export const RAND_BYTES_MAX = 64 * 1024 * 1024
/** SPEC §5: a `log_emit` longer than this is dropped. */
export const LOG_EMIT_MAX = 1024 * 1024
/** SPEC §11: WASI `random_get` longer than this answers `EINVAL`. */
export const WASI_RANDOM_MAX = 1024 * 1024

const WASI_ESUCCESS = 0
const WASI_EFAULT = 21

function view(memory: MemoryRef, ptr: number, len: number): Uint8Array | null {
  const mem = memory()
  if (mem === null) return null
  const start = ptr >>> 0
  const length = len >>> 0
  if (start + length > mem.buffer.byteLength) return null
  return new Uint8Array(mem.buffer, start, length)
}

type Fn<A extends unknown[], R> = (...args: A) => R

/** Wraps the live `igor` hostcalls so that each observation is recorded while `recorder.recording`. */
export function recordingIgor(live: HostFunctions, recorder: TickRecorder, memory: MemoryRef): HostFunctions {
  const out: HostFunctions = { ...live }
  const clockNow = live.clock_now as Fn<[], bigint> | undefined
  if (clockNow !== undefined) {
    out.clock_now = (): bigint => {
      const value = clockNow()
      if (recorder.recording) recorder.recordU64(HostcallId.ClockNow, value)
      return value
    }
  }
  const randBytes = live.rand_bytes as Fn<[number, number], number> | undefined
  if (randBytes !== undefined) {
    out.rand_bytes = (ptr: number, len: number): number => {
      const result = randBytes(ptr, len)
      // Not for length 0 or refused calls.
      if (result === 0 && len !== 0 && recorder.recording) {
        const bytes = view(memory, ptr, len)
        if (bytes !== null) recorder.record(HostcallId.RandBytes, bytes)
      }
      return result
    }
  }
  const logEmit = live.log_emit as Fn<[number, number], void> | undefined
  if (logEmit !== undefined) {
    out.log_emit = (ptr: number, len: number): void => {
      // The message as read, whatever the output caps later drop; not for 0, > 1 MiB or out of bounds.
      if (recorder.recording && len !== 0 && (len >>> 0) <= LOG_EMIT_MAX) {
        const bytes = view(memory, ptr, len)
        if (bytes !== null) recorder.record(HostcallId.LogEmit, bytes)
      }
      logEmit(ptr, len)
    }
  }
  const walletBalance = live.wallet_balance as Fn<[], bigint> | undefined
  if (walletBalance !== undefined) {
    out.wallet_balance = (): bigint => {
      const value = walletBalance()
      if (recorder.recording) recorder.recordU64(HostcallId.WalletBalance, value)
      return value
    }
  }
  const receiptCount = live.wallet_receipt_count as Fn<[], number> | undefined
  if (receiptCount !== undefined) {
    // SPEC §15: id 5, the count as u32 LE.
    out.wallet_receipt_count = (): number => {
      const count = receiptCount()
      if (recorder.recording) {
        const payload = new Uint8Array(4)
        new DataView(payload.buffer).setUint32(0, count >>> 0, true)
        recorder.record(HostcallId.WalletReceiptCount, payload)
      }
      return count
    }
  }
  const receipt = live.wallet_receipt as Fn<[number, number, number], number> | undefined
  if (receipt !== undefined) {
    // SPEC §15: id 6, the receipt's bytes as written, only on success.
    out.wallet_receipt = (index: number, ptr: number, len: number): number => {
      const result = receipt(index, ptr, len)
      if (result >= 0 && recorder.recording) {
        const bytes = view(memory, ptr, result)
        if (bytes !== null) recorder.record(HostcallId.WalletReceipt, bytes)
      }
      return result
    }
  }
  const nodePrice = live.node_price as Fn<[], bigint> | undefined
  if (nodePrice !== undefined) {
    // SPEC §15: id 7, u64 LE, exactly as wallet_balance.
    out.node_price = (): bigint => {
      const value = nodePrice()
      if (recorder.recording) recorder.recordU64(HostcallId.NodePrice, value)
      return value
    }
  }
  const requestMove = live.request_move as Fn<[bigint], number> | undefined
  if (requestMove !== undefined) {
    // SPEC §16: id 13, the i32 answer as u32 LE.
    out.request_move = (maxPricePerSecond: bigint): number => {
      const result = requestMove(maxPricePerSecond)
      if (recorder.recording) {
        const payload = new Uint8Array(4)
        new DataView(payload.buffer).setInt32(0, result, true)
        recorder.record(HostcallId.RequestMove, payload)
      }
      return result
    }
  }
  const httpRequest = live.http_request as Fn<number[], number> | undefined
  if (httpRequest !== undefined) {
    out.http_request = (...args: number[]): number => {
      const status = httpRequest(...args)
      if (status < 0 && recorder.recording) {
        // Ours (id 12): the error, and the size hint a -5 left at resp_ptr, so the tick replays.
        const hint = status === -5 && (args[9] ?? 0) >>> 0 >= 4 ? view(memory, args[8] ?? 0, 4) : null
        const payload = new Uint8Array(hint === null ? 4 : 8)
        new DataView(payload.buffer).setInt32(0, status, true)
        if (hint !== null) payload.set(hint, 4)
        recorder.record(HostcallId.HttpFailure, payload)
      }
      // SPEC §13 step 9: a response written as [len u32][body] at resp_ptr is recorded as [status u32][body].
      if (status >= 0 && recorder.recording) {
        const respPtr = args[8] ?? 0
        const head = view(memory, respPtr, 4)
        if (head !== null) {
          const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true)
          const body = view(memory, respPtr + 4, length)
          if (body !== null) {
            const payload = new Uint8Array(4 + length)
            new DataView(payload.buffer).setUint32(0, status, true)
            payload.set(body, 4)
            recorder.record(HostcallId.HttpRequest, payload)
          }
        }
      }
      return status
    }
  }
  const walletPay = live.wallet_pay as Fn<[bigint, number, number, number, number, number, number], number> | undefined
  if (walletPay !== undefined) {
    out.wallet_pay = (amount: bigint, rPtr: number, rLen: number, mPtr: number, mLen: number, receiptPtr: number, receiptCap: number): number => {
      const result = walletPay(amount, rPtr, rLen, mPtr, mLen, receiptPtr, receiptCap)
      if (!recorder.recording) return result
      if (result < 0) {
        // Ours (id 14): the refusal, and the hint a −5 left at receipt_ptr, so the tick replays.
        const hint = result === -5 && (receiptCap >>> 0) >= 4 ? view(memory, receiptPtr, 4) : null
        const payload = new Uint8Array(hint === null ? 4 : 8)
        new DataView(payload.buffer).setInt32(0, result, true)
        if (hint !== null) payload.set(hint, 4)
        recorder.record(HostcallId.WalletPayFailure, payload)
        return result
      }
      // SPEC §15: id 9, [amount u64 LE][receipt] (the receipt as written after its u32 length).
      const receipt = view(memory, receiptPtr + 4, result - 4)
      if (receipt !== null) {
        const payload = new Uint8Array(8 + receipt.byteLength)
        new DataView(payload.buffer).setBigUint64(0, BigInt.asUintN(64, amount), true)
        payload.set(receipt, 8)
        recorder.record(HostcallId.WalletPay, payload)
      }
      return result
    }
  }
  return out
}

/** Wraps WASI `clock_time_get` and `random_get` so that successful calls inside a tick are recorded (ids 10, 11; ours). */
export function recordingWasi(live: HostFunctions, recorder: TickRecorder, memory: MemoryRef): HostFunctions {
  return afterWasiSuccess(live, memory, {
    clock: (bytes) => { if (recorder.recording) recorder.record(HostcallId.WasiClockTimeGet, bytes) },
    random: (bytes) => { if (recorder.recording) recorder.record(HostcallId.WasiRandomGet, bytes) }
  })
}

/**
 * The one shape of every WASI observation wrapper (record, replay,
 * deterministic): the live virtual implementation decides every errno (bounds,
 * lengths, clock ids); after a successful `clock_time_get` or a non-empty
 * `random_get`, `after` sees the bytes it wrote and may overwrite them.
 */
function afterWasiSuccess(live: HostFunctions, memory: MemoryRef, after: { clock: (bytes: Uint8Array) => void, random: (bytes: Uint8Array) => void }): HostFunctions {
  const out: HostFunctions = { ...live }
  const clockTimeGet = live.clock_time_get as Fn<[number, bigint, number], number> | undefined
  if (clockTimeGet !== undefined) {
    out.clock_time_get = (id: number, precision: bigint, timePtr: number): number => {
      const errno = clockTimeGet(id, precision, timePtr)
      if (errno !== WASI_ESUCCESS) return errno
      const bytes = view(memory, timePtr, 8)
      if (bytes === null) return WASI_EFAULT
      after.clock(bytes)
      return errno
    }
  }
  const randomGet = live.random_get as Fn<[number, number], number> | undefined
  if (randomGet !== undefined) {
    out.random_get = (buf: number, len: number): number => {
      const errno = randomGet(buf, len)
      if (errno !== WASI_ESUCCESS || len === 0) return errno
      const bytes = view(memory, buf, len)
      if (bytes === null) return WASI_EFAULT
      after.random(bytes)
      return errno
    }
  }
  return out
}

/**
 * `igor` hostcalls for a replay: recorded values in order, nothing printed.
 * Refused calls (length 0, too long, out of bounds) answer as live ones do and
 * consume nothing, because live ones recorded nothing.
 */
export function replayingIgor(capabilities: readonly string[], feed: ReplayFeed, memory: MemoryRef, extra: HostFunctions = {}): HostFunctions {
  const all: HostFunctions = {
    clock_now: (): bigint => BigInt.asIntN(64, feed.takeU64(HostcallId.ClockNow)),
    rand_bytes: (ptr: number, len: number): number => {
      if ((len >>> 0) > RAND_BYTES_MAX) return -2
      const target = view(memory, ptr, len)
      if (target === null) return -4
      if (len === 0) return 0
      target.set(feed.takeSized(HostcallId.RandBytes, len >>> 0))
      return 0
    },
    log_emit: (ptr: number, len: number): void => {
      if (len === 0 || (len >>> 0) > LOG_EMIT_MAX) return
      const bytes = view(memory, ptr, len)
      if (bytes === null) return
      feed.takeEqual(HostcallId.LogEmit, bytes)
    },
    wallet_balance: (): bigint => BigInt.asIntN(64, feed.takeU64(HostcallId.WalletBalance)),
    wallet_receipt_count: (): number => readI32(feed.takeSized(HostcallId.WalletReceiptCount, 4)),
    wallet_receipt: (index: number, ptr: number, len: number): number => replayReceipt(feed, memory, index, ptr, len),
    // SPEC §15: the recorded price, whatever the replaying node charges now.
    node_price: (): bigint => BigInt.asIntN(64, feed.takeU64(HostcallId.NodePrice)),
    http_request: (...args: number[]): number => replayHttp(feed, memory, args),
    // SPEC §16: the recorded answer; a replay asks the node for nothing.
    request_move: (): number => readI32(feed.takeSized(HostcallId.RequestMove, 4)),
    wallet_pay: (amount: bigint, rPtr: number, rLen: number, mPtr: number, mLen: number, receiptPtr: number, receiptCap: number): number =>
      replayWalletPay(feed, memory, amount, [rPtr, rLen, mPtr, mLen, receiptPtr, receiptCap]),
    ...extra
  }
  const byCapability: Record<string, readonly string[]> = {
    clock: ['clock_now'],
    rand: ['rand_bytes'],
    log: ['log_emit'],
    wallet: ['wallet_balance', 'wallet_receipt_count', 'wallet_receipt'],
    pricing: ['node_price'],
    http: ['http_request'],
    x402: ['wallet_pay'],
    mobility: ['request_move']
  }
  const out: HostFunctions = {}
  for (const capability of capabilities) {
    for (const name of byCapability[capability] ?? []) {
      const fn = all[name]
      if (fn !== undefined) out[name] = fn
    }
  }
  return out
}

/**
 * `http_request` on replay: nothing is sent. A recorded error (ours, id 12) is
 * returned with its size hint. A recorded response (id 8) is written back as
 * `[len u32][body]` and its status returned. For logs from the reference,
 * which record only completed calls: a response that does not fit `resp_cap`
 * answers -5 with the size hint and stays in the log for the retry, as live,
 * and a call with no HTTP entry next answers -1 and consumes nothing (an agent
 * that acted on a different code diverges, and the state comparison says so).
 */
function replayHttp(feed: ReplayFeed, memory: MemoryRef, args: readonly number[]): number {
  const respPtr = args[8] ?? 0
  const respCap = args[9] ?? 0
  const kind = feed.peekId()
  if (kind === HostcallId.HttpFailure) {
    const payload = feed.take(HostcallId.HttpFailure)
    if (payload.byteLength !== 4 && payload.byteLength !== 8) return feed.failWith(`http_request (failed) payload length ${payload.byteLength}, expected 4 or 8`)
    const result = new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true)
    if (payload.byteLength === 8) {
      const target = view(memory, respPtr, 4)
      if (target === null) return feed.failWith('http_request size hint outside the agent memory')
      target.set(payload.subarray(4, 8))
    }
    return result
  }
  if (kind !== HostcallId.HttpRequest) {
    // SPEC §13 step 1 is deterministic: over-long inputs answer -2 before anything else.
    const tooLong = checkHttpInputSizes(args[1] ?? 0, args[3] ?? 0, args[5] ?? 0, args[7] ?? 0)
    return tooLong !== 0 ? tooLong : -1
  }
  const payload = feed.take(HostcallId.HttpRequest)
  if (payload.byteLength < 4) return feed.failWith(`http_request payload length ${payload.byteLength}, expected at least 4`)
  const status = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true)
  const body = payload.subarray(4)
  if ((respCap >>> 0) < 4 + body.byteLength) {
    feed.untake()
    const hint = view(memory, respPtr, 4)
    if ((respCap >>> 0) >= 4 && hint !== null) new DataView(hint.buffer, hint.byteOffset, 4).setUint32(0, body.byteLength, true)
    return -5
  }
  const target = view(memory, respPtr, 4 + body.byteLength)
  if (target === null) return feed.failWith('http_request response outside the agent memory')
  new DataView(target.buffer, target.byteOffset, 4).setUint32(0, body.byteLength, true)
  target.set(body, 4)
  return status
}

/**
 * WASI for a replay: the live virtual implementation decides every errno
 * (bounds, lengths, clock ids); a successful `clock_time_get`/`random_get`
 * then gets the recorded value written over the live one.
 */
export function replayingWasi(live: HostFunctions, feed: ReplayFeed, memory: MemoryRef): HostFunctions {
  return afterWasiSuccess(live, memory, {
    clock: (bytes) => bytes.set(feed.takeSized(HostcallId.WasiClockTimeGet, 8)),
    random: (bytes) => bytes.set(feed.takeSized(HostcallId.WasiRandomGet, bytes.byteLength))
  })
}

/**
 * SPEC §12 `--deterministic`: `clock_now` from 1 000 000 000 ns plus
 * 1 000 000 000 per call; `rand_bytes` from Go's `NewPCG(seed, seed)`.
 * Ours: WASI `clock_time_get` and `random_get` draw from the same clock and
 * stream, so wasip1 agents are repeatable too.
 */
export class DeterministicSources {
  static readonly CLOCK_START = 1_000_000_000n
  static readonly CLOCK_STEP = 1_000_000_000n
  private next = DeterministicSources.CLOCK_START

  constructor(private readonly pcg: GoPcg) {}

  clockNow(): bigint {
    const now = this.next
    this.next += DeterministicSources.CLOCK_STEP
    return now
  }

  fillRandom(target: Uint8Array): void {
    this.pcg.fillBytes(target)
  }
}

/** Live-style `igor` clock/rand hostcalls backed by `DeterministicSources` (the rules for refused calls as in SPEC §5). */
export function deterministicIgor(live: HostFunctions, sources: DeterministicSources, memory: MemoryRef): HostFunctions {
  const out: HostFunctions = { ...live }
  if (live.clock_now !== undefined) out.clock_now = (): bigint => sources.clockNow()
  if (live.rand_bytes !== undefined) {
    out.rand_bytes = (ptr: number, len: number): number => {
      if ((len >>> 0) > RAND_BYTES_MAX) return -2
      const target = view(memory, ptr, len)
      if (target === null) return -4
      sources.fillRandom(target)
      return 0
    }
  }
  return out
}

/** WASI `clock_time_get`/`random_get` backed by `DeterministicSources`; other calls are the live ones. */
export function deterministicWasi(live: HostFunctions, sources: DeterministicSources, memory: MemoryRef): HostFunctions {
  return afterWasiSuccess(live, memory, {
    clock: (bytes) => new DataView(bytes.buffer, bytes.byteOffset, 8).setBigUint64(0, sources.clockNow(), true),
    random: (bytes) => sources.fillRandom(bytes)
  })
}

/**
 * SPEC §15 `wallet_receipt` replayed: a recorded success (id 6 next) writes the
 * recorded bytes and returns their length; a live failure recorded nothing, so
 * without id 6 next the answer is −4 for a buffer out of bounds and −1
 * otherwise (ours: the reference fails the replay; a live −4 for a buffer too
 * small within bounds replays as −1, the one case the record cannot tell).
 */
function replayReceipt(feed: ReplayFeed, memory: MemoryRef, index: number, ptr: number, len: number): number {
  if (index < 0) return -1
  if (feed.peekId() !== HostcallId.WalletReceipt) return view(memory, ptr, len) === null ? -4 : -1
  const payload = feed.take(HostcallId.WalletReceipt)
  const target = payload.byteLength > (len >>> 0) ? null : view(memory, ptr, payload.byteLength)
  if (target === null) {
    feed.untake() // a live −4 recorded nothing: the entry is a later call's
    return -4
  }
  target.set(payload)
  return payload.byteLength
}

/**
 * SPEC §15 `wallet_pay` replayed: nothing is paid. A recorded success (id 9)
 * writes `[len u32][receipt]` as recorded and returns `4 + len` (the amount
 * must be the call's; the replayed budget is served by `wallet_balance`'s own
 * record). A recorded refusal (ours, id 14) is returned with its hint. For
 * logs from the reference, which record only successes: the worker's own
 * checks (−2, −6) answer as live, anything else −1 and consumes nothing.
 */
function replayWalletPay(feed: ReplayFeed, memory: MemoryRef, amount: bigint, args: readonly number[]): number {
  const [rPtr = 0, rLen = 0, mPtr = 0, mLen = 0, receiptPtr = 0, receiptCap = 0] = args
  const kind = feed.peekId()
  if (kind === HostcallId.WalletPayFailure) {
    const payload = feed.take(HostcallId.WalletPayFailure)
    if (payload.byteLength !== 4 && payload.byteLength !== 8) return feed.failWith(`wallet_pay (failed) payload length ${payload.byteLength}, expected 4 or 8`)
    const result = new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true)
    if (payload.byteLength === 8) {
      const target = view(memory, receiptPtr, 4)
      if (target === null) return feed.failWith('wallet_pay size hint outside the agent memory')
      target.set(payload.subarray(4, 8))
    }
    return result
  }
  if (kind !== HostcallId.WalletPay) {
    if ((rLen >>> 0) > 256 || (mLen >>> 0) > 512) return -2
    if (view(memory, rPtr, rLen) === null || view(memory, mPtr, mLen) === null || amount <= 0n) return -6
    return -1
  }
  const payload = feed.take(HostcallId.WalletPay)
  if (payload.byteLength < 8) return feed.failWith(`wallet_pay payload length ${payload.byteLength}, expected at least 8`)
  const recorded = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0, true)
  if (recorded !== BigInt.asUintN(64, amount)) return feed.failWith(`wallet_pay amount ${amount}, recorded ${BigInt.asIntN(64, recorded)}`)
  const receipt = payload.subarray(8)
  if ((receiptCap >>> 0) < 4 + receipt.byteLength) return feed.failWith(`wallet_pay receipt_cap ${receiptCap >>> 0} cannot hold the recorded ${receipt.byteLength}-byte receipt`)
  const target = view(memory, receiptPtr, 4 + receipt.byteLength)
  if (target === null) return feed.failWith('wallet_pay receipt outside the agent memory')
  new DataView(target.buffer, target.byteOffset, 4).setUint32(0, receipt.byteLength, true)
  target.set(receipt, 4)
  return 4 + receipt.byteLength
}

const readI32 = (payload: Uint8Array): number => new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true)
