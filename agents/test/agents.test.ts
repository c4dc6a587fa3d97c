// What each example agent does, tick by tick, and its documented state layout
// (agents/README.md).
import { Worker } from 'node:worker_threads'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import {
  MiB, StubHost, checkpoint, i64At, instantiate, readWasm, resume, sameBytes, u64At, u64Bytes
} from './harness.js'

const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n
const I64_MIN = -(1n << 63n)
const ABOVE_2_53 = (1n << 53n) + 1n

describe('survivor', () => {
  const LINE = /^survivor tick (\d+) alive (-?\d+\.\d)s luck 0x([0-9a-f]{16})$/

  function rotl7(x: bigint): bigint {
    return BigInt.asUintN(64, (x << 7n) | (x >> 57n))
  }

  it('logs tick count, age and luck each tick, and keeps them in its 32-byte state', () => {
    const host = new StubHost()
    host.clockStepNs = 1_250_000_000n // ages 1.25 s, 2.5 s, 3.75 s: one decimal, truncated
    const birth = host.clockNs
    const { agent } = instantiate('survivor', host)
    agent.agent_init()
    for (let i = 0; i < 3; i++) expect(agent.agent_tick()).toBe(0)

    let luck = 0n
    const expectedLuck = host.randDraws.map((draw) => (luck = rotl7(luck) ^ draw))
    expect(host.lines).toEqual([
      `survivor tick 1 alive 1.2s luck 0x${expectedLuck[0]?.toString(16).padStart(16, '0')}`,
      `survivor tick 2 alive 2.5s luck 0x${expectedLuck[1]?.toString(16).padStart(16, '0')}`,
      `survivor tick 3 alive 3.7s luck 0x${expectedLuck[2]?.toString(16).padStart(16, '0')}`
    ])
    for (const line of host.lines) expect(line).toMatch(LINE)

    const state = checkpoint(agent)
    expect(state.length).toBe(32)
    expect(u64At(state, 0)).toBe(3n)
    expect(i64At(state, 8)).toBe(birth)
    expect(i64At(state, 16)).toBe(birth + 3n * 1_250_000_000n)
    expect(u64At(state, 24)).toBe(luck)
  })

  it('keeps its birth time across resume and counts exactly up to 2^64-1, then wraps', () => {
    const host = new StubHost()
    const { agent } = instantiate('survivor', host)
    agent.agent_init()
    const now = host.clockNs
    // Born 5 s in the future (a node with a slower clock): the age is negative.
    resume(agent, u64Bytes(U64_MAX - 1n, now + 5_000_000_000n, now - 1n, 0n))
    agent.agent_tick()
    agent.agent_tick()
    expect(host.lines[0]).toMatch(/^survivor tick 18446744073709551615 alive -5\.0s luck 0x[0-9a-f]{16}$/)
    expect(host.lines[1]).toMatch(/^survivor tick 0 alive -4\.0s /)
    expect(i64At(checkpoint(agent), 8)).toBe(now + 5_000_000_000n)
  })

  it('keeps its luck when rand_bytes fails', () => {
    const host = new StubHost()
    const { agent } = instantiate('survivor', host)
    agent.agent_init()
    agent.agent_tick()
    const luck = u64At(checkpoint(agent), 24)
    host.randResult = -1
    agent.agent_tick()
    const state = checkpoint(agent)
    expect(u64At(state, 0)).toBe(2n)
    expect(u64At(state, 24)).toBe(luck)
    expect(host.lines[1]).toMatch(/^survivor tick 2 /)
  })
})

describe('spender', () => {
  it('logs "balance <n>" with the exact signed 64-bit wallet balance', () => {
    const host = new StubHost()
    const { agent } = instantiate('spender', host)
    agent.agent_init()
    const balances = [0n, 1_000_000n, ABOVE_2_53, I64_MAX, -1n, I64_MIN]
    for (const balance of balances) {
      host.balance = balance
      expect(agent.agent_tick()).toBe(0)
    }
    expect(host.lines).toEqual(balances.map((b) => `balance ${b}`))
    expect(checkpoint(agent)).toEqual(u64Bytes(BigInt(balances.length)))
  })
})

describe('pricer', () => {
  it('logs "price <n>" with the exact node_price and keeps the last one in its state', () => {
    const host = new StubHost()
    const { agent } = instantiate('pricer', host)
    agent.agent_init()
    const prices = [1000n, 0n, 2500n, ABOVE_2_53, I64_MAX]
    for (const price of prices) {
      host.price = price
      expect(agent.agent_tick()).toBe(0)
    }
    expect(host.lines).toEqual(prices.map((p) => `price ${p}`))
    const state = checkpoint(agent)
    expect(state.byteLength).toBe(16)
    expect(u64At(state, 0)).toBe(BigInt(prices.length))
    expect(i64At(state, 8)).toBe(I64_MAX)
    const again = instantiate('pricer').agent
    again.agent_init()
    resume(again, state)
    expect(checkpoint(again)).toEqual(state)
  })
})

describe('counter', () => {
  it.each([
    [0n, 1n],
    [ABOVE_2_53, ABOVE_2_53 + 1n],
    [I64_MAX, I64_MAX + 1n],
    [U64_MAX, 0n] // u64 wraps
  ])('resumed at %s, ticks to %s', (from, to) => {
    const { agent } = instantiate('counter')
    agent.agent_init()
    resume(agent, u64Bytes(from))
    agent.agent_tick()
    expect(checkpoint(agent)).toEqual(u64Bytes(to))
  })
})

describe('trapper', () => {
  it('ticks twice, then traps on its 3rd tick', () => {
    const { agent } = instantiate('trapper')
    agent.agent_init()
    expect(agent.agent_tick()).toBe(0)
    expect(agent.agent_tick()).toBe(0)
    expect(() => agent.agent_tick()).toThrow(WebAssembly.RuntimeError)
  })
})

describe('looper', () => {
  // Runs in a worker thread: the 3rd tick never returns, so only terminate() ends it.
  const WORKER = `
    const { parentPort, workerData } = require('node:worker_threads')
    const agent = new WebAssembly.Instance(new WebAssembly.Module(workerData.wasm), {}).exports
    agent.agent_init()
    parentPort.postMessage({ tick: 1, result: agent.agent_tick() })
    parentPort.postMessage({ tick: 2, result: agent.agent_tick() })
    parentPort.postMessage({ tick: 3, entering: true })
    parentPort.postMessage({ tick: 3, result: agent.agent_tick() })
  `

  it('returns from ticks 1 and 2, never from tick 3, and can be terminated', async () => {
    const worker = new Worker(WORKER, { eval: true, workerData: { wasm: readWasm('looper') } })
    const messages: unknown[] = []
    const entered = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: { entering?: boolean }) => {
        messages.push(message)
        if (message.entering === true) resolve()
      })
      worker.on('error', reject)
    })
    await entered
    // Not a time bound: a returning tick 3 would post its result at once; if
    // the machine is too slow to deliver it in time this can only pass, never fail falsely.
    await sleep(200)
    expect(messages).toEqual([{ tick: 1, result: 0 }, { tick: 2, result: 0 }, { tick: 3, entering: true }])
    expect(await worker.terminate()).toBe(1)
  })
})

describe('hog', () => {
  it('grows memory by 4 MiB per tick and writes to the new pages', () => {
    const { agent } = instantiate('hog')
    agent.agent_init()
    let size = agent.memory.buffer.byteLength
    for (let tick = 1; tick <= 2; tick++) {
      expect(agent.agent_tick()).toBe(0)
      const grown = new Uint8Array(agent.memory.buffer)
      expect(grown.length).toBe(size + 4 * MiB)
      const fill = tick | 1
      expect(grown[size]).toBe(fill)
      expect(grown[size + 2 * MiB + 12345]).toBe(fill)
      expect(grown[grown.length - 1]).toBe(fill)
      size = grown.length
    }
    expect(checkpoint(agent)).toEqual(u64Bytes(2n))
  })
})

describe.each([
  ['bigstate-1m', 1 * MiB],
  ['bigstate-16m', 16 * MiB]
] as const)('%s', (name, size) => {
  const GOLDEN = 0x9e3779b97f4a7c15n

  /** The documented per-tick change, applied in JS. */
  function applyTick(state: Uint8Array): void {
    const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
    const count = BigInt.asUintN(64, view.getBigUint64(0, true) + 1n)
    view.setBigUint64(0, count, true)
    const span = BigInt(size - 8)
    for (let j = 0n; j < 4n; j++) {
      const at = 8 + Number(BigInt.asUintN(64, count * 65537n + j * 4099n) % span)
      state[at] = (state[at] ?? 0) ^ (Number((count + j) & 0xffn) | 1)
    }
  }

  it(`holds exactly ${size} bytes: a u64 tick count, then the golden-ratio pattern`, () => {
    const { agent } = instantiate(name)
    agent.agent_init()
    const state = checkpoint(agent)
    expect(state.length).toBe(size)
    expect(u64At(state, 0)).toBe(0n)
    for (const k of [0, 1, 2, 1000, size / 8 - 2]) {
      expect(u64At(state, 8 + 8 * k)).toBe(BigInt.asUintN(64, BigInt(k + 1) * GOLDEN))
    }
  })

  it('changes the count and a few bytes per tick, exactly as documented', () => {
    const { agent } = instantiate(name)
    agent.agent_init()
    const expected = checkpoint(agent)
    for (let tick = 0; tick < 5; tick++) {
      agent.agent_tick()
      applyTick(expected)
    }
    const actual = checkpoint(agent)
    expect(u64At(actual, 0)).toBe(5n)
    expect(sameBytes(actual, expected)).toBe(true)
  })

  it('round-trips a full-size state with a tick count above 2^53', () => {
    const { agent } = instantiate(name)
    agent.agent_init()
    const state = checkpoint(agent)
    new DataView(state.buffer).setBigUint64(0, ABOVE_2_53, true)
    state[size - 1] = 0x5a
    const fresh = instantiate(name).agent
    fresh.agent_init()
    resume(fresh, state)
    expect(sameBytes(checkpoint(fresh), state)).toBe(true)
    fresh.agent_tick()
    applyTick(state)
    expect(sameBytes(checkpoint(fresh), state)).toBe(true)
  })
})
