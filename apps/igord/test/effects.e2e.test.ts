// SPEC §13 end to end: the demo agents make real HTTP requests through igord
// to a local server on 127.0.0.1 (never any other address), survive SIGKILL
// without repeating a completed effect, and send nothing without a valid lease.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { agentsDir } from '@igor/agents'
import { decodeCheckpoint } from '@igor/checkpoint-codec'
import { buildAgent } from '@igor/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli, sleep, useNodes, waitFor } from './harness.js'

const { nodes, dir } = useNodes()
// SPEC §13 egress policy: the test's payment server is on loopback, which a node denies unless allowed, and
// http reaches an agent arriving by migration only where the node grants it to arrivals.
const HTTP_LOOPBACK = ['--http-allow', '127.0.0.1', '--capabilities', 'clock,rand,log,wallet,http+arrivals']

interface Seen { method: string, url: string, key: string, order: number }

/** Prices and payments, like agents/scripts/demo-server.mjs, with the settlement under the test's control. */
class DemoServer {
  readonly seen: Seen[] = []
  readonly payments = new Map<string, { status: 'pending' | 'settled', posts: number }>()
  private readonly answered = new Map<string, [number, string]>()
  private server: Server | null = null
  port = 0
  /** Answer price requests this much later (network time is not compute: SPEC §13). */
  delayMs = 0

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => this.route(req, res, Buffer.concat(chunks).toString('utf8')))
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }

  keys(method: string): string[] {
    return this.seen.filter((s) => s.method === method).map((s) => s.key)
  }

  settleAll(): void {
    for (const p of this.payments.values()) p.status = 'settled'
  }

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const key = String(req.headers['idempotency-key'] ?? '')
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', key, order: this.seen.length })
    const send = (status: number, text: string): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(text) }
    if (req.method === 'GET' && req.url === '/prices') {
      const text = `{"bitcoin":{"usd":${83000 + this.seen.length}.5},"ethereum":{"usd":1923.45}}`
      if (this.delayMs > 0) setTimeout(() => send(200, text), this.delayMs)
      else send(200, text)
      return
    }
    if (req.method === 'POST' && req.url === '/payments') {
      const earlier = this.answered.get(key)
      if (earlier !== undefined) { send(...earlier); return } // the repeat of an effect: answered, not performed
      const { id } = JSON.parse(body) as { id: string }
      const existing = this.payments.get(id)
      const reply: [number, string] = existing !== undefined ? [409, '{}'] : [202, '{"status":"pending"}']
      if (existing === undefined) this.payments.set(id, { status: 'pending', posts: 1 })
      else existing.posts += 1
      this.answered.set(key, reply)
      send(...reply)
      return
    }
    const match = /^\/payments\/([\w.-]+)$/.exec(req.url ?? '')
    if (req.method === 'GET' && match !== null) {
      const payment = this.payments.get(match[1]!)
      if (payment === undefined) send(404, '{}')
      else send(200, `{"id":"${match[1]}","status":"${payment.status}"}`)
      return
    }
    send(404, '{}')
  }
}

let server: DemoServer

beforeEach(async () => { server = await new DemoServer().start() })
afterEach(async () => { await server.stop() })

/** Builds a demo agent from agents/demos with the test server's port, into the test's folder. */
async function buildDemo(name: 'pricewatcher' | 'treasury', constants: Record<string, number>): Promise<string> {
  const agentsPackage = dirname(agentsDir)
  const outFile = join(dir.path, `${name}.wasm`)
  await buildAgent({
    cwd: agentsPackage,
    entry: `demos/${name}/index.ts`,
    outFile,
    manifest: `demos/${name}/agent.manifest.json`,
    constants
  })
  return outFile
}

async function checkpointTick(agentId: string): Promise<bigint> {
  const bytes = await readFile(join(dir.path, 'checkpoints', `${agentId}.checkpoint`))
  return decodeCheckpoint(new Uint8Array(bytes)).tickNumber
}

const tickOf = (key: string): bigint => BigInt(key.split(':')[1] ?? '-1')

describe('http_request under igord (SPEC §13)', () => {
  it('pricewatcher: SIGKILL mid-run and restart; a request of a checkpointed tick is never sent again', async () => {
    const wasm = await buildDemo('pricewatcher', { PRICE_PORT: server.port, FETCH_EVERY: 1 })
    const first = await nodes.start(dir.path, ['--run-agent', wasm, ...HTTP_LOOPBACK]).ready()
    await waitFor('three requests', () => server.keys('GET').length >= 3, 60_000)
    await first.waitForLog('a fetch logged', (l) => l.agentId === 'pricewatcher' && / FETCH \| BTC=\$83\d+\.50 /.test(l.msg))
    await sleep(Math.floor(Math.random() * 1500))
    await first.kill()
    const durable = await checkpointTick('pricewatcher')
    const beforeRestart = server.seen.length

    const second = await nodes.start(dir.path, ['--run-agent', wasm, ...HTTP_LOOPBACK]).ready()
    await waitFor('requests after the restart', () => server.seen.length >= beforeRestart + 3, 60_000)
    await second.stop()

    const keys = server.keys('GET')
    expect(keys.every((k) => /^pricewatcher:\d+:0$/.test(k))).toBe(true)
    const counts = new Map<string, number>()
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1)
    for (const [key, count] of counts) {
      // A tick the checkpoint holds was completed: its request never goes out again.
      if (tickOf(key) <= durable) expect({ key, count }).toEqual({ key, count: 1 })
      // A tick re-executed after the crash repeats its request with the same key, at most once more.
      else expect(count).toBeLessThanOrEqual(2)
    }
    expect(keys.map(tickOf).some((t) => t > durable)).toBe(true)
    expect(second.stderr).not.toMatch(/\n\s+at /)
  }, 120_000)

  it('waiting on a slow server is not compute: a tick that waits longer than the 100 ms deadline is not halted', async () => {
    server.delayMs = 400
    const wasm = await buildDemo('pricewatcher', { PRICE_PORT: server.port, FETCH_EVERY: 1 })
    const node = await nodes.start(dir.path, ['--run-agent', wasm, ...HTTP_LOOPBACK]).ready()
    await node.waitForLog('two fetches', (l) => l.agentId === 'pricewatcher' && /tick=2 .* FETCH /.test(l.msg), 60_000)
    const status = await node.agent('pricewatcher')
    expect(status).toMatchObject({ state: 'ACTIVE_OWNER', halted: null })
    await node.stop()
  }, 120_000)

  it('a node whose lease ran out while it was paused sends nothing after it resumes', async () => {
    const wasm = await buildDemo('pricewatcher', { PRICE_PORT: server.port, FETCH_EVERY: 1 })
    // Manual recovery: the agent stays RECOVERY_REQUIRED (assisted recovery would take the lease back at a new epoch).
    const node = await nodes.start(dir.path, ['--run-agent', wasm, '--lease-duration', '2s', '--lease-grace', '1s', '--recovery', 'manual', ...HTTP_LOOPBACK]).ready()
    await waitFor('two requests', () => server.keys('GET').length >= 2, 60_000)
    node.signal('SIGSTOP')
    await sleep(4500)
    const sentBeforeResume = server.seen.length
    node.signal('SIGCONT')
    const halted = await waitFor('RECOVERY_REQUIRED', async () => {
      const a = await node.agent('pricewatcher')
      return a?.state === 'RECOVERY_REQUIRED' ? a : null
    })
    expect(halted.halted).toBe('lease expired beyond grace')
    await sleep(2500)
    expect(server.seen.length).toBe(sentBeforeResume)
  }, 120_000)

  it('treasury: killed between begin and confirm, reconciles the Unresolved intent after restart without paying twice', async () => {
    const wasm = await buildDemo('treasury', { PAY_PORT: server.port, PAY_EVERY_TICKS: 3, WAIT_BEFORE_PAY: 2 })
    const first = await nodes.start(dir.path, ['--run-agent', wasm, ...HTTP_LOOPBACK]).ready()
    const post = await waitFor('the POST of pay-1', () => server.seen.find((s) => s.method === 'POST'), 60_000)
    expect(post.key).toMatch(/^treasury:\d+:\d+$/)
    // Not settled yet: the agent polls while pay-1 is InFlight; wait until a checkpoint holds that.
    await waitFor('a checkpoint after the POST', async () => await checkpointTick('treasury') >= tickOf(post.key), 60_000)
    await first.kill()
    server.settleAll()

    const second = await nodes.start(dir.path, ['--run-agent', wasm, ...HTTP_LOOPBACK]).ready()
    await second.waitForLog('reconciled', (l) => l.agentId === 'treasury' && /reconciled pay-1: settled, paid 100 cents in 1 payments/.test(l.msg), 60_000)
    expect(server.payments.get('pay-1')).toEqual({ status: 'settled', posts: 1 })
    for (const [id, payment] of server.payments) expect({ id, posts: payment.posts }).toEqual({ id, posts: 1 })
    await second.stop()
  }, 120_000)

  it('treasury: migrated while a payment is InFlight, the target reconciles it; nobody pays twice', async () => {
    const wasm = await buildDemo('treasury', { PAY_PORT: server.port, PAY_EVERY_TICKS: 3, WAIT_BEFORE_PAY: 2 })
    const A = nodes.start(join(dir.path, 'A'), ['--run-agent', wasm, ...HTTP_LOOPBACK])
    const B = nodes.start(join(dir.path, 'B'), [...HTTP_LOOPBACK])
    await Promise.all([A.ready(), B.ready()])
    await waitFor('the POST of pay-1', () => server.seen.find((s) => s.method === 'POST'), 60_000)
    const moved = await runCli(['migrate', 'treasury', '--to', B.address(), '--data-dir', A.dataDir])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    const seenAtHandOff = server.seen.length
    server.settleAll()
    // The package carries the live state: pay-1 InFlight, which the target loads as Unresolved.
    await B.waitForLog('reconciled on the target', (l) => l.agentId === 'treasury' && /reconciled pay-1: settled, paid 100 cents in 1 payments/.test(l.msg), 60_000)
    expect(server.payments.get('pay-1')).toEqual({ status: 'settled', posts: 1 })
    expect((await A.agent('treasury'))?.state ?? 'RETIRED').toBe('RETIRED')
    expect(server.seen.length).toBeGreaterThan(seenAtHandOff)
  }, 120_000)

  // Issue 17 finding 7 (shared/notes/replay-divergence.md): the hand-off that lost the race under load, made
  // certain. The last tick before the hand-off starts with pay-1 InFlight; its replay on the target must start
  // from exactly that state (SPEC §12 "Restore is not resume"), not from the after-a-crash Unresolved.
  it('treasury: migrated after a tick that began with the payment InFlight, the replay on arrival verifies', async () => {
    const wasm = await buildDemo('treasury', { PAY_PORT: server.port, PAY_EVERY_TICKS: 3, WAIT_BEFORE_PAY: 2 })
    const A = nodes.start(join(dir.path, 'A'), ['--run-agent', wasm, ...HTTP_LOOPBACK])
    const B = nodes.start(join(dir.path, 'B'), [...HTTP_LOOPBACK])
    await Promise.all([A.ready(), B.ready()])
    await waitFor('a pending GET after the POST of pay-1', () => {
      const post = server.seen.findIndex((s) => s.method === 'POST')
      return post >= 0 && server.seen.slice(post + 1).some((s) => s.method === 'GET') ? true : null
    }, 60_000)
    const moved = await runCli(['migrate', 'treasury', '--to', B.address(), '--data-dir', A.dataDir])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    expect(B.logs.some((l) => /replay divergence/.test(l.msg))).toBe(false)
    await B.waitForLog('replay verified on arrival', (l) => l.agentId === 'treasury' && /verified/.test(l.msg), 30_000)
    server.settleAll()
    await B.waitForLog('reconciled on the target', (l) => l.agentId === 'treasury' && /reconciled pay-1: settled, paid 100 cents in 1 payments/.test(l.msg), 60_000)
    expect(server.payments.get('pay-1')).toEqual({ status: 'settled', posts: 1 })
  }, 120_000)

  // Issue 17 finding 7, kept as a stress test: the hand-off CI lost under load, with both cores kept busy by
  // the test itself. Where the hand-off lands (after tick 5 or 6, or later) depends on the load; the replay
  // on arrival must verify wherever it lands.
  it('treasury: migrated while a payment is InFlight under a CPU hog on both cores, the replay verifies and nobody pays twice', async () => {
    const hogs = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
    try {
      const wasm = await buildDemo('treasury', { PAY_PORT: server.port, PAY_EVERY_TICKS: 3, WAIT_BEFORE_PAY: 2 })
      const A = nodes.start(join(dir.path, 'A'), ['--run-agent', wasm, ...HTTP_LOOPBACK])
      const B = nodes.start(join(dir.path, 'B'), [...HTTP_LOOPBACK])
      await Promise.all([A.ready(), B.ready()])
      await waitFor('the POST of pay-1', () => server.seen.find((s) => s.method === 'POST'), 90_000)
      const moved = await runCli(['migrate', 'treasury', '--to', B.address(), '--data-dir', A.dataDir], 120_000)
      expect(moved.stderr).toBe('')
      expect(moved.code).toBe(0)
      expect(B.logs.some((l) => /replay divergence|replay verification failed/.test(l.msg))).toBe(false)
      server.settleAll()
      await B.waitForLog('reconciled on the target', (l) => l.agentId === 'treasury' && /(reconciled|confirmed) pay-1: settled, paid 100 cents in 1 payments/.test(l.msg), 90_000)
      expect(server.payments.get('pay-1')).toEqual({ status: 'settled', posts: 1 })
    } finally {
      for (const hog of hogs) hog.kill('SIGKILL')
    }
  }, 240_000)
})
