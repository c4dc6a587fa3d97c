// SPEC §15 settlement against a settlement server (a node:http server in this test): a real igord with
// `--settlement-url` POSTs its sealed receipts in order with `Idempotency-Key: receipt:<agentId>:<s>:<e>`;
// a 402 for the agent's budget pauses it with `budget not valid: …` in status and a 200 lets it tick
// again; killed with SIGKILL while the server is down and restarted with it up, the node delivers every
// receipt from its outbox — each key once, none lost — and /metrics shows the settlement counters.
import { readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { decodeReceipts, encodeReceipt } from '@igor/checkpoint-codec'
import { describe, expect, it } from 'vitest'
import { freePort, scrapeMetrics, sleep, ticking, useNodes, waitFor } from './harness.js'

const { nodes, dir } = useNodes()

interface Post { key: string, body: { agentId: string, nodeId: string, epochStart: number, epochEnd: number, receipt: string } }

/** The settlement server: records POSTs, answers the budget with `budget`. */
class SettlementServer {
  readonly posts: Post[] = []
  budget: { status: number, body: string } = { status: 200, body: 'ok' }
  budgetAsks = 0
  private server: Server | null = null

  constructor(readonly port: number) {}

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      void read(req).then((text) => {
        if (req.method === 'POST' && req.url === '/settle/receipts') {
          this.posts.push({ key: String(req.headers['idempotency-key']), body: JSON.parse(text) as Post['body'] })
          res.writeHead(201).end()
        } else if (req.method === 'GET' && req.url === '/settle/budget/counter') {
          this.budgetAsks++
          res.writeHead(this.budget.status).end(this.budget.body)
        } else {
          res.writeHead(400).end('unexpected request')
        }
      })
    })
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(this.port, '127.0.0.1', resolve) })
    this.server = server
  }

  async down(): Promise<void> {
    const server = this.server
    this.server = null
    if (server === null) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

describe('settlement (SPEC §15 --settlement-url)', () => {
  it('receipts arrive in order with their keys; 402 pauses and 200 resumes; kill -9 while the server is down loses nothing', async () => {
    const server = new SettlementServer(await freePort())
    await server.up()
    try {
      const dataDir = join(dir.path, 'A')
      const receiptsFile = join(dataDir, 'checkpoints', 'counter.receipts')
      const args = ['--run-agent', agentPath('counter'), '--budget', '1000', '--receipt-span', '1s', '--settlement-url', `http://127.0.0.1:${server.port}/settle`]
      let node = await nodes.start(dataDir, args).ready()
      const peerId = String(node.logs.find((l) => l.msg.startsWith('listening on'))?.peerId)

      // Sealed receipts (span 1 s: one at each 5 s checkpoint) arrive in order, keyed by their ticks.
      await waitFor('two receipts posted', () => server.posts.length >= 2, 60_000)
      for (const [i, post] of server.posts.entries()) {
        expect(post.key).toBe(`receipt:counter:${post.body.epochStart}:${post.body.epochEnd}`)
        expect(post.body).toMatchObject({ agentId: 'counter', nodeId: peerId })
        expect(post.body.epochStart).toBe(i === 0 ? 1 : server.posts[i - 1]!.body.epochEnd + 1)
      }

      // 402: the agent stops ticking with the server's reason; 200: it ticks again, no operator.
      server.budget = { status: 402, body: 'no funds left\nsecond line' }
      await waitFor('paused by the 402', async () => (await node.agent('counter'))?.halted === 'budget not valid: no funds left', 60_000)
      const paused = BigInt((await node.agent('counter'))!.tickNumber)
      await sleep(2_500)
      expect(BigInt((await node.agent('counter'))!.tickNumber)).toBe(paused)
      const metricsText = await scrapeMetrics(dataDir)
      expect(metricsText).toMatch(/igor_agents_halted\{reason="budget_not_valid"\} 1/)
      server.budget = { status: 200, body: 'ok' }
      await ticking(node, 'counter', paused + 1n)

      // The server goes down; a sealed receipt waits in the outbox; the node is killed with SIGKILL.
      await server.down()
      const outbox = join(dataDir, 'settlement', 'outbox', 'counter')
      const waitingFiles = (): string[] => { try { return readdirSync(outbox).filter((f) => f.endsWith('.json')) } catch { return [] } }
      await waitFor('a receipt waiting in the outbox', () => waitingFiles().length >= 1, 60_000)
      const postsBeforeKill = server.posts.length
      await node.kill()
      expect(waitingFiles().length).toBeGreaterThanOrEqual(1)

      // Up again, restarted: every sealed receipt in the node's list reaches the server, each key once.
      await server.up()
      node = await nodes.start(dataDir, args).ready()
      const sealed = (): ReturnType<typeof decodeReceipts> => decodeReceipts(readFileSync(receiptsFile)).slice(0, -1)
      await waitFor('every sealed receipt posted', () => {
        const keys = new Set(server.posts.map((p) => p.key))
        const list = sealed()
        return list.length > postsBeforeKill && list.every((r) => keys.has(`receipt:counter:${r.epochStart}:${r.epochEnd}`))
      }, 60_000)
      await waitFor('the outbox empty', () => waitingFiles().length === 0, 30_000)
      const metrics = await scrapeMetrics(dataDir)
      expect(metrics).toMatch(/igor_settlement_outbox_receipts 0/)
      expect(metrics).toMatch(/igor_settlement_lag_seconds 0/)
      expect(metrics).toMatch(/igor_settlement_failures_total \d+/)
      await node.stop()

      const list = sealed()
      const byKey = new Map<string, Post[]>()
      for (const post of server.posts) byKey.set(post.key, [...(byKey.get(post.key) ?? []), post])
      for (const [key, posts] of byKey) expect(posts.length, `${key} posted ${posts.length} times`).toBe(1)
      // In order, one chain from tick 1, each receipt the very bytes the node keeps.
      const posted = server.posts.map((p) => p.body)
      for (let i = 1; i < posted.length; i++) expect(posted[i]!.epochStart).toBe(posted[i - 1]!.epochEnd + 1)
      for (const r of list) {
        const post = byKey.get(`receipt:counter:${r.epochStart}:${r.epochEnd}`)?.[0]
        expect(post, `receipt ${r.epochStart}…${r.epochEnd} posted`).toBeDefined()
        expect(post!.body.receipt).toBe(Buffer.from(encodeReceipt(r)).toString('base64'))
      }
      console.log(`settlement e2e: ${server.posts.length} receipts posted, ${postsBeforeKill} before the kill, ${server.budgetAsks} budget checks`)
    } finally {
      await server.down()
    }
  }, 240_000)
})
