// The SDK's own tests: the AssemblyScript library compiled to wasm with the
// build preset, run through the test host (SPEC §13 vectors).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuildError, buildAgent } from '../src/build.js'
import { HOSTCALL, StateReader, TestHostError, loadAgent, toHex } from '../src/test-host.js'
import type { HttpRequest, ManifestJson } from '../src/test-host.js'

const here = import.meta.dirname
let out = ''

const PRICES = '{"bitcoin":{"usd":83456.78},"ethereum":{"usd":1923.45}}'
const probeManifest: ManifestJson = {
  capabilities: {
    clock: { version: 1 },
    rand: { version: 1 },
    log: { version: 1 },
    wallet: { version: 1 },
    http: { version: 1, options: { allowed_hosts: ['API.test', 7], max_response_bytes: 20000.9 } }
  }
}

const pricerManifest: ManifestJson = { capabilities: { log: { version: 1 }, pricing: { version: 1 } } }

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'igor-sdk-test-'))
  await buildAgent({ cwd: here, entry: 'agents/vectors.ts', outFile: join(out, 'vectors.wasm'), manifest: { capabilities: { log: { version: 1 } } } })
  await buildAgent({ cwd: here, entry: 'agents/probe.ts', outFile: join(out, 'probe.wasm'), manifest: probeManifest })
  await buildAgent({ cwd: here, entry: 'agents/pricer.ts', outFile: join(out, 'pricer.wasm'), manifest: pricerManifest })
}, 180_000)

afterAll(() => {
  if (out !== '') rmSync(out, { recursive: true, force: true })
})

describe('Encoder, Decoder and EffectLog in wasm (SPEC §13 vectors)', () => {
  it('produces the reference bytes', () => {
    const agent = loadAgent(join(out, 'vectors.wasm'))
    agent.init()
    const { logs } = agent.tick()
    const line = (prefix: string): string => {
      const found = logs.find((l) => l.startsWith(`${prefix} `))
      if (found === undefined) throw new Error(`no "${prefix}" line in ${JSON.stringify(logs)}`)
      return found.slice(prefix.length + 1)
    }
    expect(line('heartbeat')).toBe('2a0000000000000000002a36fe9c9717005af4c1079d971704000000')
    expect(line('encoder')).toBe('0807060504030201' + 'feffffffffffffff' + 'efbeadde' + 'fdffffff' + '01' + '00' +
      '02000000' + '6162' + '06000000' + '68c3a96c6c6f' + '78797a' + '07')
    expect(line('decoded')).toBe('72623859790382856 -2 3735928559 -3 true false 6162 héllo 78797a 7 failed=false remaining=0')
    expect(line('short')).toBe('0 0 failed=true')
    expect(line('bool7')).toBe('true')
    expect(line('shortbytes')).toBe('0 failed=true')
    expect(line('effectlog')).toBe('0400000001080000007265636f7264656401000000010208000000696e666c696768740e0000007b22616d6f756e74223a3130307d0309000000636f6e6669726d6564000000000504000000636f6d7000000000 states 1,2,3,5')
    expect(line('loaded')).toBe('1,4,3,5 unresolved 1 pending 2')
    expect(line('empty')).toBe('00000000')
    expect(line('transitions')).toBe('0,-1,-2,-3,-3,0,-3,0,-3,-3')
    expect(line('resolve')).toBe('0 0 5 3 pruned 1 left 0')
  })
})

describe('hostcall wrappers through the test host', () => {
  it('GETs, retries only GET on −5, refuses blocked hosts, gates on ownership and survives a restart', () => {
    const big = 'b'.repeat(9000)
    const handler = (req: HttpRequest): { status: number, body: string } => {
      if (req.url.endsWith('/small')) return { status: 200, body: PRICES }
      if (req.url.endsWith('/big')) return { status: 201, body: big }
      if (req.url.endsWith('/huge')) return { status: 200, body: 'h'.repeat(100) }
      return { status: 404, body: '' }
    }
    const agent = loadAgent(join(out, 'probe.wasm'), { manifest: probeManifest, http: handler, agentId: 'agent-7' })
    agent.init()

    const t1 = agent.tick()
    expect(t1.more).toBe(true)
    expect(t1.logs).toEqual([`get 200 0 ${PRICES}`])
    expect(t1.requests).toHaveLength(1)
    expect(t1.requests[0]).toMatchObject({ method: 'GET', idempotencyKey: 'agent-7:1:0', headers: { 'X-Trace': 't1' } })
    // SPEC §13 vector: observation payload [status u32 LE][body]
    const http = t1.observations.filter((o) => o.id === HOSTCALL.http)
    expect(http.map((o) => toHex(o.payload))).toEqual([`c8000000${Buffer.from(PRICES).toString('hex')}`])

    const t2 = agent.tick()
    expect(t2.logs).toEqual(['get-big 201 0 9000'])
    expect(t2.requests.map((r) => r.idempotencyKey)).toEqual(['agent-7:2:0', 'agent-7:2:1'])

    const t3 = agent.tick()
    expect(t3.logs).toEqual(['post-big 0 -5'])
    expect(t3.requests).toHaveLength(1) // a POST is never sent twice by the SDK
    expect(t3.requests[0]).toMatchObject({ method: 'POST', headers: { 'Content-Type': 'application/json' } })
    expect(new TextDecoder().decode(t3.requests[0]!.body)).toBe('{}')

    const t4 = agent.tick()
    expect(t4.logs).toEqual(['blocked -3'])
    expect(t4.requests).toHaveLength(0)

    expect(agent.tick().logs).toEqual(['rand 0 ad3032f7095271da wallet 1000000 clock 1000000000'])

    const t6 = agent.tick()
    expect(t6.logs).toEqual(['put-huge -5'])
    expect(t6.requests).toHaveLength(1)

    // restart from a checkpoint: the InFlight intent comes back Unresolved
    const state = agent.checkpoint()
    const again = agent.restart(state)
    expect(again.logs.at(-1)).toBe('unresolved boot init')
    expect(again.tick().requests.map((r) => r.idempotencyKey)).toEqual(['agent-7:7:0'])

    again.owner = false
    const t8 = again.tick()
    expect(t8.logs).toEqual(['tick 8 -6'])
    expect(t8.requests).toHaveLength(0)

    // max_response_bytes 20000: the hint is 20001, the GET retry fails again
    again.owner = true
    again.http = () => ({ status: 200, body: 'x'.repeat(30000) })
    const t9 = again.tick()
    expect(t9.logs).toEqual(['tick 9 -5'])
    expect(t9.requests).toHaveLength(2)
    expect(toHex(again.checkpoint()).slice(0, 16)).toBe('0900000000000000')
    const reader = new StateReader(again.checkpoint())
    expect(reader.uint64()).toBe(9n)
    expect(reader.effectLog()).toEqual([{ id: 'boot', state: 4, data: new TextEncoder().encode('init') }])
    expect(reader.remaining).toBe(0)
    expect(() => reader.uint32()).toThrow(/state too short: 4 bytes wanted at offset/)
  })

  it('refuses an agent whose imports its manifest does not declare', () => {
    expect(() => loadAgent(join(out, 'probe.wasm'), { manifest: { capabilities: { log: { version: 1 } } } }))
      .toThrow(TestHostError)
    expect(() => loadAgent(join(out, 'probe.wasm'), { manifest: { capabilities: { log: { version: 1 } } } }))
      .toThrow(/does not declare the "(clock|rand|wallet|http)" capability/)
  })
})

describe('nodePrice (SPEC §15)', () => {
  it('answers the test host\'s price (default 1000, settable), recorded as id 7 u64 LE, and survives a restart', () => {
    const agent = loadAgent(join(out, 'pricer.wasm'))
    agent.init()
    const t1 = agent.tick()
    expect(t1.logs).toEqual(['price 1000'])
    expect(t1.observations.filter((o) => o.id === HOSTCALL.pricing).map((o) => toHex(o.payload))).toEqual(['e803000000000000'])
    expect(HOSTCALL.pricing).toBe(7)

    agent.price = 2500n
    expect(agent.price).toBe(2500n)
    expect(agent.tick().logs).toEqual(['price 2500'])
    for (const [price, text, payload] of [
      [0n, '0', '0000000000000000'],
      [(1n << 53n) + 1n, '9007199254740993', '0100000000002000'],
      [(1n << 63n) - 1n, '9223372036854775807', 'ffffffffffffff7f'],
      // Beyond i64: the agent sees the wrapped i64; the record keeps the u64 bytes.
      [(1n << 64n) - 1n, '-1', 'ffffffffffffffff']
    ] as const) {
      agent.price = price
      const t = agent.tick()
      expect(t.logs).toEqual([`price ${text}`])
      expect(t.observations.map((o) => [o.id, toHex(o.payload)])).toContainEqual([7, payload])
    }
    agent.price = 4200n
    const again = agent.restart()
    const reader = new StateReader(again.checkpoint())
    expect(reader.uint64()).toBe(6n)
    expect(reader.int64()).toBe(-1n)
    expect(again.tick().logs).toEqual(['price 4200'])
  })

  it('starts at the price option, and refuses an agent whose manifest lacks "pricing"', () => {
    const agent = loadAgent(join(out, 'pricer.wasm'), { manifest: pricerManifest, price: 7n })
    agent.init()
    expect(agent.tick().logs).toEqual(['price 7'])
    expect(() => loadAgent(join(out, 'pricer.wasm'), { manifest: { capabilities: { log: { version: 1 } } } }))
      .toThrow('the agent imports igor.node_price but its manifest does not declare the "pricing" capability')
  })
})

describe('build preset', () => {
  it('refuses a module that imports a capability its manifest lacks', async () => {
    await expect(buildAgent({ cwd: here, entry: 'agents/probe.ts', outFile: join(out, 'x.wasm'), manifest: { capabilities: {} } }))
      .rejects.toThrow(BuildError)
  }, 60_000)

  it('refuses node_price without "pricing" in the manifest, naming the capability', async () => {
    await expect(buildAgent({ cwd: here, entry: 'agents/pricer.ts', outFile: join(out, 'y.wasm'), manifest: { capabilities: { log: { version: 1 } } } }))
      .rejects.toThrow('imports igor.node_price: add "pricing": {"version": 1} to the manifest\'s capabilities')
  }, 60_000)
})
