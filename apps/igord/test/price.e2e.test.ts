// SPEC §15 Node price, end to end on a real igord: `igord price [set]`, status and /metrics, the
// charge from the next tick (asserted exactly: a free node charges nothing, a price that no tick can
// afford exhausts the budget at the next tick), restart, and `/igor/price/1.0.0` over real libp2p.
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'
import { TestPeer } from './p2p-client.js'

const { nodes, dir } = useNodes()
const I64_MAX = ((1n << 63n) - 1n).toString()
const PRICE_PROTOCOL = '/igor/price/1.0.0'

async function metrics(node: Igord): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(node.dataDir, 'igord.sock'), path: '/metrics', method: 'GET', timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d })
      res.on('end', () => resolve(text))
    })
    req.on('error', reject)
    req.end()
  })
}

function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1))
}

async function budget(node: Igord): Promise<bigint> {
  return BigInt((await node.agent('counter'))!.budget)
}

async function price(data: string): Promise<{ pricePerSecond: string, source: string, running: boolean }> {
  const result = await runCli(['price', '--data-dir', data, '--json'])
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as { pricePerSecond: string, source: string, running: boolean }
}

describe('igord price (SPEC §15)', () => {
  it('prints the flag\'s price; price set is durable, logged, in status and /metrics, and charged from the next tick; a restart keeps it', async () => {
    const data = join(dir.path, 'node')
    // counter with no max_price_per_second: at any price it stays and pays (SPEC §16 would otherwise hold it above its max).
    const agents = join(dir.path, 'agents')
    await mkdir(agents)
    await copyFile(agentPath('counter'), join(agents, 'counter.wasm'))
    await writeFile(join(agents, 'counter.manifest.json'), '{"capabilities": {}}')
    const node = await nodes.start(data, ['--run-agent', join(agents, 'counter.wasm'), '--price-per-second', '0', '--budget', '1.0']).ready()
    const shown = await runCli(['price', '--data-dir', data])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toBe('price 0 microcents per second (0.000000 units/s), --price-per-second at start\n')
    expect(await price(data)).toMatchObject({ pricePerSecond: '0', source: 'flag', running: true })

    // Free: ticks run and nothing is charged, exactly.
    await ticking(node, 'counter', 2n)
    expect(await budget(node)).toBe(1_000_000n)

    const set = await runCli(['price', 'set', '2500', '--data-dir', data])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toBe('price set: 0 → 2500 microcents per second, from each agent\'s next tick\n')
    await node.waitForLog('the change logged', (l) => l.msg.startsWith('node price set: 0 → 2500'))
    const status = await node.status()
    expect(status.node.pricePerSecond).toBe('2500')
    expect(status.agents.find((a) => a.agentId === 'counter')?.pricePerSecond).toBe('2500')
    expect((await runCli(['status', '--data-dir', data])).stdout).toContain('\nprice 2500 microcents per second\n')
    expect(sample(await metrics(node), 'igor_price_per_second')).toBe(2500)
    expect(await price(data)).toMatchObject({ pricePerSecond: '2500', source: 'set' })
    // Charged now: the budget falls (each tick costs its metered ns × 2500 / 10^9, carried below one microcent).
    await waitFor('the budget charged at 2500', async () => await budget(node) < 1_000_000n, 120_000)

    // Back to free: from the moment set answers, no charge at all, however many ticks run.
    expect((await runCli(['price', 'set', '0', '--data-dir', data])).code).toBe(0)
    const frozen = await budget(node)
    const tick = BigInt((await node.agent('counter'))!.tickNumber)
    await ticking(node, 'counter', tick + 2n)
    expect(await budget(node)).toBe(frozen)

    // A price no tick can afford (any tick of ≥ 1 ns costs more than the whole budget): the next tick exhausts it.
    expect((await runCli(['price', 'set', I64_MAX, '--data-dir', data])).code).toBe(0)
    await waitFor('budget exhausted at the new price', async () => (await node.agent('counter'))?.halted === 'budget exhausted', 60_000)
    expect(await budget(node)).toBe(0n)
    expect(await price(data)).toMatchObject({ pricePerSecond: I64_MAX, source: 'set' }) // exact above 2^53

    // Stopped: price shows the durable price; price set is refused with one line.
    await node.stop()
    const offline = await runCli(['price', '--data-dir', data])
    expect(offline.code).toBe(0)
    expect(offline.stdout).toMatch(new RegExp(`^price ${I64_MAX} microcents per second .*no node is running`))
    const refused = await runCli(['price', 'set', '5', '--data-dir', data])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^igord: no igord is running with data dir .*; price set changes a running node's price .*\n$/)

    // Restart without the flag: the durable price wins over the default.
    const again = await nodes.start(data).ready()
    expect(await price(data)).toMatchObject({ pricePerSecond: I64_MAX, source: 'durable', running: true })
    expect((await again.status()).node.pricePerSecond).toBe(I64_MAX)
    expect((await again.agent('counter'))?.pricePerSecond).toBe(I64_MAX)
    await again.stop()

    // An explicit --price-per-second replaces it, durably.
    const third = await nodes.start(data, ['--price-per-second', '1500']).ready()
    expect(await price(data)).toMatchObject({ pricePerSecond: '1500', source: 'flag' })
    await third.stop()
    expect(await price(data)).toMatchObject({ pricePerSecond: '1500', source: 'durable', running: false })
  }, 300_000)

  it('refuses a bad price with one line and exit 2, before asking any node', async () => {
    for (const bad of ['-5', '1.5', 'abc', '9223372036854775808', '18446744073709551615', '1e3']) {
      const result = await runCli(['price', 'set', bad, '--data-dir', dir.path])
      expect(result.code, bad).toBe(2)
      expect(result.stderr, bad).toMatch(/^igord: price set: the price must be a whole number of microcents from 0 to 9223372036854775807, got .*\n$/)
    }
    const noValue = await runCli(['price', 'set', '--data-dir', dir.path])
    expect(noValue.code).toBe(2)
    expect(noValue.stderr).toMatch(/^igord: price set needs the price/)
    expect((await runCli(['price', 'raise', '5', '--data-dir', dir.path])).code).toBe(2)
  })
})

describe('/igor/price/1.0.0 over libp2p (SPEC §15)', () => {
  let peer: TestPeer | null = null
  afterEach(async () => { await peer?.stop(); peer = null })

  it('answers the exact JSON with the current price; 70 asks in a row get at most 60 answers', async () => {
    const node = await nodes.start(join(dir.path, 'node'), ['--run-agent', agentPath('counter'), '--max-agents', '4']).ready()
    expect((await runCli(['price', 'set', '2500', '--data-dir', node.dataDir])).code).toBe(0)
    const nodeId = (await node.status()).node.peerId as string
    peer = await TestPeer.start()
    const first = await peer.ask(node.address(), PRICE_PROTOCOL, new TextEncoder().encode('{"agent_id":"counter"}\n'))
    expect(first).toEqual({
      text: `{"price_per_second":2500,"node_id":"${nodeId}","capabilities":["clock","log","mobility","pricing","rand","wallet","x402"],"agents":1,"max_agents":4}\n`,
      error: null
    })

    // Hostile: garbage and an oversize question get a one-line refusal, never a price, and the node answers on.
    const garbage = await peer.ask(node.address(), PRICE_PROTOCOL, new TextEncoder().encode('{"agent_id":[1,2,3]}\n'))
    expect(JSON.parse(garbage.text)).toMatchObject({ code: 'BAD_REQUEST', node_id: nodeId })
    const oversize = await peer.ask(node.address(), PRICE_PROTOCOL, new TextEncoder().encode(`{"agent_id":"${'x'.repeat(1 << 20)}"}\n`))
    expect(JSON.parse(oversize.text)).toMatchObject({ code: 'BAD_REQUEST', error: expect.stringMatching(/exceeds 1024 bytes/) })

    let answered = 1
    let limited = 0
    for (let i = 0; i < 70; i++) {
      const { text } = await peer.ask(node.address(), PRICE_PROTOCOL, new TextEncoder().encode('{}\n'))
      const reply = JSON.parse(text) as { price_per_second?: number, code?: string, node_id?: string }
      if (reply.price_per_second !== undefined) answered++
      else if (reply.code === 'RATE_LIMITED' && reply.node_id === nodeId) limited++
    }
    // The two refused questions count against the peer too: at most 60 answers and refusals in the minute.
    expect(answered).toBeLessThanOrEqual(58 + 1)
    expect(limited).toBe(71 - answered)
    await node.waitForLog('the refusal logged', (l) => /^price queries refused: more than 60 price queries a minute/.test(l.msg))
  }, 120_000)
})
