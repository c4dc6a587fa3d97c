import { describe, expect, it } from 'vitest'
import { HostcallId, TickRecorder, decodeEntries, u64Payload } from './event-log.js'
import { DeterministicSources, type HostFunctions, deterministicIgor, recordingIgor, recordingWasi, replayingIgor, replayingWasi } from './hostcalls.js'
import { GoPcg } from './pcg.js'
import { ReplayAbort, ReplayFeed, firstDifference } from './replayer.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

function feedOf(...entries: Array<[number, Uint8Array]>): ReplayFeed {
  return new ReplayFeed(entries.map(([hostcallId, payload]) => ({ hostcallId, payload })))
}

function failureOf(fn: () => unknown, feed: ReplayFeed): string | null {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ReplayAbort)
  }
  return feed.failure
}

describe('ReplayFeed', () => {
  it('serves entries in order and finishes clean when all were used', () => {
    const feed = feedOf([1, u64Payload(5n)], [2, Uint8Array.of(9, 9)])
    expect(feed.takeU64(HostcallId.ClockNow)).toBe(5n)
    expect(hex(feed.takeSized(HostcallId.RandBytes, 2))).toBe('0909')
    expect(feed.finish()).toBeNull()
  })

  it('fails on a call whose id does not fit', () => {
    const feed = feedOf([2, Uint8Array.of(1)])
    expect(failureOf(() => feed.takeU64(HostcallId.ClockNow), feed)).toBe('hostcall mismatch at position 0: expected 1 (clock_now), got 2 (rand_bytes)')
  })

  it('fails on a payload that does not fit', () => {
    const feed = feedOf([1, Uint8Array.of(1, 2, 3)])
    expect(failureOf(() => feed.takeU64(HostcallId.ClockNow), feed)).toBe('clock_now payload length 3 at position 0, expected 8')
    const rand = feedOf([2, Uint8Array.of(1, 2, 3)])
    expect(failureOf(() => rand.takeSized(HostcallId.RandBytes, 4), rand)).toBe('rand_bytes payload length 3 at position 0, expected 4')
    const log = feedOf([3, text('hello')])
    expect(failureOf(() => log.takeEqual(HostcallId.LogEmit, text('hellO')), log)).toBe('log_emit payload at position 0 differs from the recorded one')
  })

  it('fails when the log runs out, and when entries are left over', () => {
    const empty = feedOf()
    expect(failureOf(() => empty.take(HostcallId.WalletBalance), empty)).toBe('event log exhausted at position 0, expected wallet_balance (4)')
    const extra = feedOf([1, u64Payload(1n)], [1, u64Payload(2n)], [3, text('x')])
    extra.takeU64(HostcallId.ClockNow)
    expect(extra.finish()).toBe('replay: 2 unconsumed event log entries')
  })

  it('keeps the first failure even when the agent carries on (sticky)', () => {
    const feed = feedOf([2, Uint8Array.of(1)], [1, u64Payload(1n)])
    failureOf(() => feed.takeU64(HostcallId.ClockNow), feed)
    expect(() => feed.take(HostcallId.RandBytes)).toThrow(ReplayAbort)
    expect(feed.finish()).toMatch(/^hostcall mismatch at position 0/)
  })
})

describe('firstDifference', () => {
  it('reports the first differing byte, a length difference at the shorter length, -1 when equal', () => {
    expect(firstDifference(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(-1)
    expect(firstDifference(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 5, 3))).toBe(1)
    expect(firstDifference(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(2)
    expect(firstDifference(new Uint8Array(0), new Uint8Array(0))).toBe(-1)
  })

  it('finds a difference past the native block compare, in views at odd offsets', () => {
    const size = 3 * 256 * 1024 + 7
    const a = new Uint8Array(size + 3).subarray(3)
    const b = new Uint8Array(size + 1).subarray(1)
    expect(firstDifference(a, b)).toBe(-1)
    for (const at of [0, 256 * 1024 - 1, 256 * 1024, 2 * 256 * 1024 + 5, size - 1]) {
      b[at] = 1
      expect(firstDifference(a, b)).toBe(at)
      b[at] = 0
    }
    expect(firstDifference(a, b.subarray(0, size - 2))).toBe(size - 2)
  })
})

/** A little "agent" memory and live hostcalls, enough to drive the decorators like a worker does. */
function fixture(): { memory: WebAssembly.Memory, bytes: () => Uint8Array, live: HostFunctions, logged: string[] } {
  const memory = new WebAssembly.Memory({ initial: 1 })
  const bytes = (): Uint8Array => new Uint8Array(memory.buffer)
  const logged: string[] = []
  let clock = 100n
  const live: HostFunctions = {
    clock_now: (): bigint => clock++,
    rand_bytes: (ptr: number, len: number): number => {
      if (len > 64 * 1024 * 1024) return -2
      if (ptr + len > memory.buffer.byteLength) return -4
      bytes().fill(0xaa, ptr, ptr + len)
      return 0
    },
    log_emit: (ptr: number, len: number): void => {
      logged.push(Buffer.from(bytes().subarray(ptr, ptr + len)).toString())
    },
    wallet_balance: (): bigint => 777n
  }
  return { memory, bytes, live, logged }
}

describe('recording → replaying hostcalls', () => {
  it('a recorded tick replays with the same values, printing nothing', () => {
    const { memory, bytes, live, logged } = fixture()
    const recorder = new TickRecorder()
    const rec = recordingIgor(live, recorder, () => memory) as Record<string, (...args: number[]) => unknown>
    bytes().set(text('hi'), 16)
    recorder.begin()
    const seen = [rec.clock_now!(), rec.rand_bytes!(32, 4), rec.rand_bytes!(32, 0), rec.rand_bytes!(65_530, 100), rec.log_emit!(16, 2), rec.log_emit!(16, 0), rec.wallet_balance!()]
    const sealed = recorder.end()!
    expect(seen).toEqual([100n, 0, 0, -4, undefined, undefined, 777n])
    // length-0 and refused calls are not recorded
    expect(decodeEntries(sealed.packed).map((e) => e.hostcallId)).toEqual([1, 2, 3, 4])
    expect(logged).toEqual(['hi', ''])

    const replayMemory = new WebAssembly.Memory({ initial: 1 })
    new Uint8Array(replayMemory.buffer).set(text('hi'), 16)
    const feed = new ReplayFeed(decodeEntries(sealed.packed))
    const rep = replayingIgor(['clock', 'rand', 'log', 'wallet'], feed, () => replayMemory) as Record<string, (...args: number[]) => unknown>
    const replayed = [rep.clock_now!(), rep.rand_bytes!(32, 4), rep.rand_bytes!(32, 0), rep.rand_bytes!(65_530, 100), rep.log_emit!(16, 2), rep.log_emit!(16, 0), rep.wallet_balance!()]
    expect(replayed).toEqual(seen)
    expect(hex(new Uint8Array(replayMemory.buffer, 32, 4))).toBe('aaaaaaaa')
    expect(feed.finish()).toBeNull()
    expect(logged).toEqual(['hi', '']) // replay printed nothing
  })

  it('serves a packed log in place: 60 000 clock reads, then an untaken leftover counted exactly', () => {
    const recorder = new TickRecorder()
    recorder.begin()
    for (let i = 0; i < 60_000; i++) recorder.recordU64(HostcallId.ClockNow, BigInt(i) * 1_000_000_007n)
    recorder.recordU64(HostcallId.ClockNow, 1n)
    const feed = new ReplayFeed(recorder.end()!.packed)
    for (let i = 0; i < 60_000; i++) expect(feed.takeU64(HostcallId.ClockNow)).toBe(BigInt(i) * 1_000_000_007n)
    expect(feed.peekId()).toBe(HostcallId.ClockNow)
    feed.takeU64(HostcallId.ClockNow)
    feed.untake()
    expect(feed.remaining).toBe(1)
    expect(feed.finish()).toBe('replay: 1 unconsumed event log entries')
  })

  it('an agent that asks for something else on replay fails it', () => {
    const feed = new ReplayFeed([{ hostcallId: HostcallId.ClockNow, payload: u64Payload(1n) }])
    const rep = replayingIgor(['clock', 'rand'], feed, () => new WebAssembly.Memory({ initial: 1 })) as Record<string, (...args: number[]) => unknown>
    expect(() => rep.rand_bytes!(0, 8)).toThrow(ReplayAbort)
    expect(feed.finish()).toBe('hostcall mismatch at position 0: expected 2 (rand_bytes), got 1 (clock_now)')
  })

  it('only the declared capabilities are provided on replay', () => {
    const rep = replayingIgor(['clock'], new ReplayFeed([]), () => null)
    expect(Object.keys(rep)).toEqual(['clock_now'])
  })

  it('records WASI clock_time_get and random_get as ids 10 and 11, and replays them over the live values', () => {
    const memory = new WebAssembly.Memory({ initial: 1 })
    const view = (): DataView => new DataView(memory.buffer)
    let now = 5n
    const liveWasi: HostFunctions = {
      clock_time_get: (id: number, _precision: bigint, ptr: number): number => {
        if (id > 1) return 28
        view().setBigUint64(ptr, now++, true)
        return 0
      },
      random_get: (buf: number, len: number): number => {
        new Uint8Array(memory.buffer, buf, len).fill(0x11)
        return 0
      }
    }
    const recorder = new TickRecorder()
    const rec = recordingWasi(liveWasi, recorder, () => memory) as Record<string, (...args: never[]) => number>
    recorder.begin()
    expect((rec.clock_time_get as (a: number, b: bigint, c: number) => number)(0, 0n, 8)).toBe(0)
    expect((rec.clock_time_get as (a: number, b: bigint, c: number) => number)(7, 0n, 8)).toBe(28)
    expect((rec.random_get as (a: number, b: number) => number)(64, 3)).toBe(0)
    const entries = decodeEntries(recorder.end()!.packed)
    expect(entries.map((e) => [e.hostcallId, hex(e.payload)])).toEqual([[10, '0500000000000000'], [11, '111111']])

    const feed = new ReplayFeed(entries)
    const rep = replayingWasi(liveWasi, feed, () => memory) as Record<string, (...args: never[]) => number>
    expect((rep.clock_time_get as (a: number, b: bigint, c: number) => number)(0, 0n, 8)).toBe(0)
    expect(view().getBigUint64(8, true)).toBe(5n) // recorded value, not the live clock's 6
    expect((rep.clock_time_get as (a: number, b: bigint, c: number) => number)(7, 0n, 8)).toBe(28)
    expect((rep.random_get as (a: number, b: number) => number)(64, 3)).toBe(0)
    expect(feed.finish()).toBeNull()
  })
})

describe('deterministic sources (igord simulate --deterministic)', () => {
  it('clock_now starts at 1 000 000 000 ns and steps 1 000 000 000 per call; rand_bytes is the Go PCG stream', () => {
    const memory = new WebAssembly.Memory({ initial: 1 })
    const { live } = fixture()
    const det = deterministicIgor(live, new DeterministicSources(new GoPcg(42n, 42n)), () => memory) as Record<string, (...args: number[]) => unknown>
    expect([det.clock_now!(), det.clock_now!(), det.clock_now!()]).toEqual([1_000_000_000n, 2_000_000_000n, 3_000_000_000n])
    expect(det.rand_bytes!(0, 4)).toBe(0)
    expect(det.rand_bytes!(4, 4)).toBe(0)
    expect(hex(new Uint8Array(memory.buffer, 0, 8))).toBe('ad3032f7095271da')
    expect(det.rand_bytes!(65_535, 2)).toBe(-4)
  })
})

describe('http_request observations (SPEC §13 step 9; failures ours, id 12)', () => {
  const BODY = '{"bitcoin":{"usd":83456.78},"ethereum":{"usd":1923.45}}'
  /** A live http_request stand-in: answers like SPEC §13 steps 6–8 for a fixed body. */
  function liveHttp(memory: WebAssembly.Memory, body: Uint8Array, status = 200): HostFunctions {
    return {
      http_request: (...args: number[]): number => {
        const respPtr = args[8]!
        const respCap = args[9]!
        const view = new DataView(memory.buffer)
        if (4 + body.byteLength > respCap) {
          if (respCap >= 4) view.setUint32(respPtr, body.byteLength, true)
          return -5
        }
        view.setUint32(respPtr, body.byteLength, true)
        new Uint8Array(memory.buffer).set(body, respPtr + 4)
        return status
      }
    }
  }
  const call = (fns: HostFunctions, respPtr: number, respCap: number): number =>
    (fns.http_request as (...a: number[]) => number)(0, 0, 0, 0, 0, 0, 0, 0, respPtr, respCap)

  it('records [status u32][body] (the SPEC vector) and replays the response into memory without sending anything', () => {
    const memory = new WebAssembly.Memory({ initial: 1 })
    const body = text(BODY)
    const recorder = new TickRecorder()
    recorder.begin()
    expect(call(recordingIgor(liveHttp(memory, body), recorder, () => memory), 100, 4096)).toBe(200)
    const entries = decodeEntries(recorder.end()!.packed)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.hostcallId).toBe(8)
    expect(hex(entries[0]!.payload)).toBe(`c8000000${hex(body)}`)
    expect(hex(new Uint8Array(memory.buffer, 100, 4))).toBe('37000000')

    const fresh = new WebAssembly.Memory({ initial: 1 })
    const feed = new ReplayFeed(entries)
    expect(call(replayingIgor(['http'], feed, () => fresh), 100, 4096)).toBe(200)
    expect(hex(new Uint8Array(fresh.buffer, 100, 4 + body.byteLength))).toBe(`37000000${hex(body)}`)
    expect(feed.finish()).toBeNull()
  })

  it('records a -5 with its size hint as id 12 and replays both', () => {
    const memory = new WebAssembly.Memory({ initial: 1 })
    const recorder = new TickRecorder()
    recorder.begin()
    expect(call(recordingIgor(liveHttp(memory, new Uint8Array(9000)), recorder, () => memory), 0, 8192)).toBe(-5)
    const entries = decodeEntries(recorder.end()!.packed)
    expect(entries.map((e) => [e.hostcallId, hex(e.payload)])).toEqual([[12, 'fbffffff28230000']])
    const fresh = new WebAssembly.Memory({ initial: 1 })
    const feed = new ReplayFeed(entries)
    expect(call(replayingIgor(['http'], feed, () => fresh), 0, 8192)).toBe(-5)
    expect(hex(new Uint8Array(fresh.buffer, 0, 4))).toBe('28230000')
    expect(feed.finish()).toBeNull()
  })

  it('reference logs (completed calls only): a response that does not fit answers -5 and stays for the retry; no entry answers -1', () => {
    const body = text(BODY)
    const feed = new ReplayFeed([{ hostcallId: 8, payload: Uint8Array.of(0xc8, 0, 0, 0, ...body) }])
    const fresh = new WebAssembly.Memory({ initial: 1 })
    const rep = replayingIgor(['http'], feed, () => fresh)
    expect(call(rep, 0, 16)).toBe(-5)
    expect(hex(new Uint8Array(fresh.buffer, 0, 4))).toBe('37000000')
    expect(call(rep, 0, 4096)).toBe(200)
    expect(call(rep, 0, 4096)).toBe(-1)
    expect(feed.finish()).toBeNull()
  })
})
