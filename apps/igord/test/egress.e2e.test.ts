// SPEC §13 "The node's egress policy" end to end (issue 17 finding 5): an
// agent's allowed_hosts is its wish, the node decides. Real igord processes,
// an HTTP server the test starts on 127.0.0.1, and a WAT agent that asks for
// one URL `perTick` times a tick.
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freePort, runCli, useNodes, waitFor } from './harness.js'
import type { Igord, LogLine } from './harness.js'
import { agentWat, writeWat } from './wat.js'

const { nodes, dir } = useNodes()

/** Records every request it receives; answers 200 "ok". */
class LoopbackServer {
  readonly seen: Array<{ url: string, key: string, at: number }> = []
  private server: Server | null = null
  port = 0

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      this.seen.push({ url: req.url ?? '', key: String(req.headers['idempotency-key'] ?? ''), at: performance.now() })
      res.writeHead(200).end('ok')
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }
}

let server: LoopbackServer
beforeEach(async () => { server = await new LoopbackServer().start() })
afterEach(async () => { await server.stop() })

/**
 * An agent that calls http_request on `url` `perTick` times each tick; its manifest allows `allowedHosts`.
 * The URL sits at 8192, clear of `malloc`'s 2048 where a resume copies the checkpoint.
 */
async function fetcher(name: string, url: string, allowedHosts: string[], perTick = 1): Promise<string> {
  const path = join(dir.path, `${name}.wasm`)
  await writeWat(path, agentWat({
    imports: '(import "igor" "http_request" (func $http (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))',
    omit: ['agent_tick'],
    extra: `(data (i32.const 8192) "${url}")
  (func (export "agent_tick") (result i32)
    (local $i i32)
    (loop $again
      (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024))
        (i64.extend_i32_s (call $http (i32.const 0) (i32.const 0) (i32.const 8192) (i32.const ${url.length})
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4096) (i32.const 1024)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const ${perTick}))))
    (i32.const 0))`
  }))
  await writeFile(join(dir.path, `${name}.manifest.json`), JSON.stringify({
    capabilities: { http: { version: 1, options: { allowed_hosts: allowedHosts, timeout_ms: 5000 } } },
    migration_policy: { enabled: true }
  }))
  return path
}

const refusals = (node: Igord, code: number): LogLine[] => node.logs.filter((l) => l.msg.startsWith('http_request refused or failed') && l.code === code)

/** A free loopback port: bound, noted, closed. */

describe('the node\'s egress policy (SPEC §13)', () => {
  it('an agent allowed 127.0.0.1 by its own manifest gets −3 and the server sees nothing; --http-allow 127.0.0.1/32 lets it through', async () => {
    const wasm = await fetcher('ssrf', `http://127.0.0.1:${server.port}/secret`, ['127.0.0.1'])
    const denied = await nodes.start(join(dir.path, 'denied'), ['--run-agent', wasm]).ready()
    await waitFor('three refusals', () => refusals(denied, -3).length >= 3 ? true : null, 60_000)
    expect(refusals(denied, -3)[0]!.msg).toMatch(/denied by this node's egress policy: 127\.0\.0\.1 is loopback, denied by default/)
    expect(server.seen).toEqual([])
    await denied.stop()

    const allowed = await nodes.start(join(dir.path, 'allowed'), ['--run-agent', wasm, '--http-allow', '127.0.0.1/32']).ready()
    await waitFor('requests let through', () => server.seen.length >= 2 ? true : null, 60_000)
    expect(server.seen[0]!.url).toBe('/secret')
    expect(refusals(allowed, -3)).toEqual([])
  }, 180_000)

  it('a DNS name that resolves to loopback (localhost) is refused on its resolved address', async () => {
    const wasm = await fetcher('byname', `http://localhost:${server.port}/secret`, ['localhost'])
    const node = await nodes.start(dir.path, ['--run-agent', wasm]).ready()
    await waitFor('three refusals', () => refusals(node, -3).length >= 3 ? true : null, 60_000)
    expect(refusals(node, -3)[0]!.msg).toMatch(/\(localhost resolved to it\) is loopback/)
    expect(server.seen).toEqual([])
  }, 120_000)

  it('the node\'s own --metrics-listen page is refused even with all of loopback allowed', async () => {
    const metricsPort = await freePort()
    const wasm = await fetcher('metrics', `http://127.0.0.1:${metricsPort}/metrics`, ['127.0.0.1'])
    const node = await nodes.start(dir.path, ['--run-agent', wasm, '--metrics-listen', `127.0.0.1:${metricsPort}`, '--http-allow', '127.0.0.0/8,::1,localhost']).ready()
    await waitFor('three refusals', () => refusals(node, -3).length >= 3 ? true : null, 60_000)
    expect(refusals(node, -3)[0]!.msg).toMatch(new RegExp(`127\\.0\\.0\\.1 port ${metricsPort} is this node's own listening address`))
  }, 120_000)

  it('--http-rate: over n requests a second the agent gets −4 and nothing is sent', async () => {
    const wasm = await fetcher('chatty', `http://127.0.0.1:${server.port}/x`, ['127.0.0.1'], 30)
    const node = await nodes.start(dir.path, ['--run-agent', wasm, '--http-allow', '127.0.0.1', '--http-rate', '5']).ready()
    await waitFor('requests over three ticks', () => new Set(server.seen.map((s) => s.key.split(':')[1])).size >= 3 ? true : null, 60_000)
    expect(refusals(node, -4).some((l) => /--http-rate/.test(l.msg))).toBe(true)
    // 30 asked a tick, at most 5 sent in any second (the node's clock; one window of slack each side for
    // the way to the server): never the 30 a tick the agent asked for.
    const seen = [...server.seen]
    const windows = Math.ceil((seen.at(-1)!.at - seen[0]!.at) / 1000) + 2
    expect(seen.length).toBeLessThanOrEqual(5 * windows)
    const ticks = new Set(seen.map((s) => s.key.split(':')[1])).size
    expect(seen.length).toBeLessThan(30 * ticks)
  }, 120_000)

  it('http reaches an agent arriving by migration only where --capabilities says http+arrivals', async () => {
    const wasm = await fetcher('traveller', `http://127.0.0.1:${server.port}/x`, ['127.0.0.1'])
    const loopback = ['--http-allow', '127.0.0.1']
    const A = nodes.start(join(dir.path, 'A'), ['--run-agent', wasm, ...loopback])
    const B = nodes.start(join(dir.path, 'B'), loopback)
    const C = nodes.start(join(dir.path, 'C'), [...loopback, '--capabilities', 'clock,rand,log,wallet,http+arrivals'])
    await Promise.all([A.ready(), B.ready(), C.ready()])
    await waitFor('requests from A', () => server.seen.length >= 2 ? true : null, 60_000)

    const refused = await runCli(['migrate', 'traveller', '--to', B.address(), '--data-dir', A.dataDir])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/capability "http" is not offered to agents arriving by migration/)
    expect((await A.agent('traveller'))?.state).toBe('ACTIVE_OWNER')
    expect(await B.agent('traveller')).toBeUndefined()

    const moved = await runCli(['migrate', 'traveller', '--to', C.address(), '--data-dir', A.dataDir])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    const seenAtHandOff = server.seen.length
    await waitFor('requests from C', async () => (await C.agent('traveller'))?.state === 'ACTIVE_OWNER' && server.seen.length > seenAtHandOff + 1 ? true : null, 60_000)
    expect(refusals(C, -3)).toEqual([])
  }, 180_000)
})
