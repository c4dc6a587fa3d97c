// SPEC §15 Node price: validation, the durable price file, the start rule (durable wins unless the
// flag is explicit), `setPrice` (durable, logged, in force from the next tick) and the charge.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { Epoch } from '@igor/epoch'
import { AuthorityState, type LeaseConfig } from '@igor/lease'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { recordingLogger, refusal, tempDir, waitFor } from '@igor/test-kit'
import { NodeRuntime, type NodeRuntimeOptions } from '../node-runtime.js'
import { LiveAgent } from '../host/live-agent.js'
import type { AgentHostInit } from '../host/types.js'
import { MAX_PRICE_PER_SECOND, NodePrice, PRICE_FILE, checkPrice, readDurablePrice, writeDurablePrice } from './price.js'

const LEASE: LeaseConfig = { durationMs: 60_000, renewalWindow: 0.5, gracePeriodMs: 10_000 }
const FAST = { tickIntervalMs: 20, busyIntervalMs: 5, checkpointIntervalMs: 200 }
const I64_MAX = (1n << 63n) - 1n

let dir: { path: string, remove: () => Promise<void> }
const open: NodeRuntime[] = []

async function runtime(options: Partial<NodeRuntimeOptions> = {}): Promise<NodeRuntime> {
  const rt = await NodeRuntime.open({ dataDir: dir.path, lease: LEASE, pricePerSecond: 1000n, timing: FAST, ...options })
  open.push(rt)
  return rt
}

async function stopAll(): Promise<void> {
  for (const rt of open.splice(0)) await rt.shutdown()
}

async function row(rt: NodeRuntime, agentId: string) {
  const found = (await rt.status()).find((s) => s.agentId === agentId)
  if (found === undefined) throw new Error(`no status row for ${agentId}`)
  return found
}

beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await stopAll(); await dir.remove() })

describe('checkPrice', () => {
  it('takes whole microcents 0 … 2^63-1 exactly, as bigint or decimal text', () => {
    expect(checkPrice(0n)).toBe(0n)
    expect(checkPrice('0')).toBe(0n)
    expect(checkPrice('9007199254740993')).toBe(9007199254740993n) // 2^53+1, exact
    expect(checkPrice(I64_MAX.toString())).toBe(I64_MAX)
    expect(MAX_PRICE_PER_SECOND).toBe(I64_MAX)
  })

  it('refuses negative, fractional, non-numeric and too-large values with one line', () => {
    for (const bad of [-1n, '-1', '1.5', '1e3', ' 12', '012', '', 'abc', 1000, null, (1n << 63n).toString(), ((1n << 64n) - 1n).toString(), 1n << 63n, '99999999999999999999999']) {
      let error: unknown
      try {
        checkPrice(bad)
      } catch (caught) {
        error = caught
      }
      expect(error, String(bad)).toMatchObject({ code: 'PRICE_INVALID' })
      expect((error as Error).message).not.toContain('\n')
    }
  })
})

describe('the durable price file', () => {
  it('round-trips exactly, 2^63-1 included, and is absent until written', async () => {
    expect(await readDurablePrice(dir.path)).toBeNull()
    await writeDurablePrice(dir.path, { pricePerSecond: I64_MAX, setAtNs: 1_700_000_000_123_456_789n, by: 'price set' })
    expect(await readDurablePrice(dir.path)).toEqual({ pricePerSecond: I64_MAX, setAtNs: 1_700_000_000_123_456_789n, by: 'price set' })
    expect(JSON.parse(await readFile(join(dir.path, PRICE_FILE), 'utf8'))).toEqual({ pricePerSecond: I64_MAX.toString(), setAtNs: '1700000000123456789', by: 'price set' })
  })

  it('refuses a damaged file, naming it, instead of guessing a price', async () => {
    for (const text of ['{', '[]', '{"pricePerSecond":2500}', '{"pricePerSecond":"-1"}', `{"pricePerSecond":"${1n << 63n}"}`, 'x'.repeat(5000)]) {
      await writeFile(join(dir.path, PRICE_FILE), text)
      const error = await refusal(readDurablePrice(dir.path))
      expect(error.code).toBe('PRICE_INVALID')
      expect(error.message).toContain(PRICE_FILE)
    }
  })

  it('at start: an explicit flag wins and is written; otherwise the durable price wins over the default', () => {
    const durable = { pricePerSecond: 2500n, setAtNs: 5n, by: 'price set' as const }
    expect(NodePrice.resolve(1000n, false, null)).toMatchObject({ price: { value: 1000n, source: 'default' }, write: false })
    expect(NodePrice.resolve(1000n, false, durable)).toMatchObject({ price: { value: 2500n, source: 'durable', setAtNs: 5n }, write: false })
    expect(NodePrice.resolve(3000n, true, durable)).toMatchObject({ price: { value: 3000n, source: 'flag' }, write: true })
    expect(NodePrice.resolve(2500n, true, durable)).toMatchObject({ price: { value: 2500n, source: 'flag' }, write: false })
    expect(NodePrice.resolve(3000n, true, null)).toMatchObject({ price: { value: 3000n, source: 'flag' }, write: true })
  })
})

describe('LiveAgent charges the current price', () => {
  it('reads the shared holder at each charge: a change applies from the next charge, carry kept', () => {
    const holder = { value: 1000n }
    const init = {
      agentId: 'a',
      module: {},
      sandbox: {},
      lease: { state: AuthorityState.ACTIVE_OWNER, epoch: Epoch.ZERO, expiry: 0n },
      budget: 1_000_000n,
      pricePerSecond: 7n, // ignored: the holder is the price
      price: holder,
      tickNumber: 0n,
      store: {},
      logger: recordingLogger(),
      timing: FAST,
      nowNs: () => 0n
    } as unknown as AgentHostInit
    const agent = new LiveAgent(init, () => {})
    expect(agent.pricePerSecond).toBe(1000n)
    agent.charge(1_000_000_000n) // one second at 1000
    expect(agent.budget).toBe(999_000n)
    holder.value = 2500n
    expect(agent.pricePerSecond).toBe(2500n)
    agent.charge(1_000_000_000n) // the next second at 2500
    expect(agent.budget).toBe(996_500n)
    agent.charge(400_000n) // 400 µs at 2500 = 1 microcent exactly
    expect(agent.budget).toBe(996_499n)
    agent.charge(200_000n) // half a microcent: carried, not charged
    holder.value = 5000n
    agent.charge(100_000n) // 0.5 carried + 100 µs at 5000 (0.5) = 1
    expect(agent.budget).toBe(996_498n)
  })

  it('without a holder, charges the fixed pricePerSecond of its init', () => {
    const agent = new LiveAgent({
      agentId: 'a', module: {}, sandbox: {}, lease: { state: AuthorityState.ACTIVE_OWNER, epoch: Epoch.ZERO, expiry: 0n },
      budget: 10_000n, pricePerSecond: 3000n, tickNumber: 0n, store: {}, logger: recordingLogger(), timing: FAST, nowNs: () => 0n
    } as unknown as AgentHostInit, () => {})
    agent.charge(1_000_000_000n)
    expect(agent.budget).toBe(7000n)
  })
})

describe('NodeRuntime.setPrice', () => {
  it('is durable, logged and charged from the next tick (free → so dear the next tick exhausts the budget)', async () => {
    const logger = recordingLogger()
    const rt = await runtime({ pricePerSecond: 0n, logger })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 500n })
    await waitFor('ticks at price 0', async () => (await row(rt, 'counter')).tickNumber >= 3n)
    // Free: no tick has charged anything.
    expect((await row(rt, 'counter')).budget).toBe(500n)
    expect(rt.price).toMatchObject({ pricePerSecond: 0n, source: 'default' })

    const { previous, price } = await rt.setPrice('1000000000000') // 10^12 µ¢/s: ≥ 1000 µ¢ for any tick of ≥ 1 ns
    expect(previous).toBe(0n)
    expect(price).toMatchObject({ pricePerSecond: 1_000_000_000_000n, source: 'set' })
    expect(rt.pricePerSecond).toBe(1_000_000_000_000n)
    expect(await readDurablePrice(dir.path)).toMatchObject({ pricePerSecond: 1_000_000_000_000n, by: 'price set' })
    expect(logger.lines.some((l) => l.msg.startsWith('node price set: 0 → 1000000000000'))).toBe(true)

    await waitFor('budget halt at the new price', async () => (await row(rt, 'counter')).halted === 'budget exhausted')
    const after = await row(rt, 'counter')
    expect(after.budget).toBe(0n)
    expect(after.pricePerSecond).toBe(1_000_000_000_000n)
    const checkpoint = await rt.store.load('counter')
    expect(checkpoint?.budget).toBe(0n)
    expect(checkpoint?.pricePerSecond).toBe(1_000_000_000_000n) // the checkpoint records the price in force
  })

  it('refuses a bad price and changes nothing', async () => {
    const rt = await runtime()
    for (const bad of ['-1', '1.5', (1n << 63n).toString(), '']) {
      expect((await refusal(rt.setPrice(bad))).code).toBe('PRICE_INVALID')
    }
    expect(rt.pricePerSecond).toBe(1000n)
    expect(await readDurablePrice(dir.path)).toBeNull()
  })

  it('survives a restart; an explicit price on a later start replaces it', async () => {
    const rt = await runtime()
    await rt.setPrice(2500n)
    await stopAll()

    const again = await runtime() // the default 1000, not explicit: the durable 2500 wins
    expect(again.price).toMatchObject({ pricePerSecond: 2500n, source: 'durable' })
    const status = await again.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    expect(status.pricePerSecond).toBe(2500n)
    await stopAll()

    const third = await runtime({ pricePerSecond: 4000n, pricePerSecondExplicit: true })
    expect(third.price).toMatchObject({ pricePerSecond: 4000n, source: 'flag' })
    expect(await readDurablePrice(dir.path)).toMatchObject({ pricePerSecond: 4000n, by: '--price-per-second' })
    // A resumed agent pays the node's price, not the one in its checkpoint.
    expect((await third.startAgent({ wasmPath: agentPath('counter'), budget: 1n })).pricePerSecond).toBe(4000n)
    await stopAll()

    expect((await runtime()).pricePerSecond).toBe(4000n)
  })

  it('refuses to start on a damaged price file unless the price is given explicitly', async () => {
    await writeFile(join(dir.path, PRICE_FILE), '{"pricePerSecond":"lots"}')
    expect((await refusal(runtime())).code).toBe('PRICE_INVALID')
    const rt = await runtime({ pricePerSecond: 1500n, pricePerSecondExplicit: true })
    expect(rt.pricePerSecond).toBe(1500n)
    expect(await readDurablePrice(dir.path)).toMatchObject({ pricePerSecond: 1500n })
  })

  it('offers the price, the capabilities for arrivals, the agents held and --max-agents', async () => {
    const rt = await runtime({ capabilities: ['clock', 'rand', 'log', 'http'], maxAgents: 3 })
    await rt.startAgent({ wasmPath: agentPath('counter'), budget: 1_000_000n })
    expect(rt.priceOffer()).toEqual({ pricePerSecond: 1000n, capabilities: ['clock', 'log', 'rand'], agents: 1, maxAgents: 3 })
    await stopAll()
    expect((await runtime()).priceOffer()).toMatchObject({ agents: 0, maxAgents: 0 })
  })
})
