// SPEC §15 settlement over HTTP: a local node:http server and a fake clock — receipts POSTed in order
// with their keys and exact integers, retried with capped backoff, the outbox surviving a restart,
// 402 refusing and 200 accepting a budget, and the cache asking at most every 10 s.
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { signReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { silentLogger } from '@igor/sandbox'
import { tempDir } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RunnerError } from '../errors.js'
import { seedSigner } from '../receipts/test-signer.js'
import type { SettlementClock } from './clock.js'
import { HttpBudgetAdapter } from './http-adapter.js'
import { parseSettlementUrl } from './wire.js'

const SIGNER = seedSigner()
const receipt = (epochStart: bigint, epochEnd: bigint, cost = 10n, after = 1000n, agentId = 'survivor'): PaymentReceipt =>
  signReceipt({ agentId, nodeId: SIGNER.nodeId, epochStart, epochEnd, costMicrocents: cost, budgetAfter: after, timestampNs: 1_700_000_000_123_456_789n }, (d) => SIGNER.sign(d))

interface Seen { method: string, url: string, key: string | undefined, body: string }
let server: Server
let base = ''
let seen: Seen[] = []
/** What the server answers next: a status (and body) per path kind. */
let answer: { post: number, budget: number, budgetBody: string } = { post: 200, budget: 200, budgetBody: '' }
let dir: { path: string, remove: () => Promise<void> }
let timers: Array<{ ms: number, fn: () => void, cancelled: boolean }> = []
let now = 0
const clock: SettlementClock = {
  nowMs: () => now,
  wallMs: () => 1_000_000 + now,
  after: (ms, fn) => {
    const timer = { ms, fn, cancelled: false }
    timers.push(timer)
    return () => { timer.cancelled = true }
  }
}
const fireTimers = (): number[] => {
  const due = timers.filter((t) => !t.cancelled)
  timers = []
  for (const t of due) t.fn()
  return due.map((t) => t.ms)
}
const read = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
const open: HttpBudgetAdapter[] = []
async function adapter(url = base): Promise<HttpBudgetAdapter> {
  const a = await HttpBudgetAdapter.open({ url, dataDir: dir.path, log: silentLogger, clock, timeoutMs: 5_000 })
  open.push(a)
  return a
}
const posts = (): Seen[] => seen.filter((s) => s.method === 'POST')
const gets = (): Seen[] => seen.filter((s) => s.method === 'GET')

beforeEach(async () => {
  dir = await tempDir()
  seen = []
  timers = []
  now = 0
  answer = { post: 200, budget: 200, budgetBody: '' }
  server = createServer((req, res) => {
    void read(req).then((body) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined, body })
      if (req.method === 'POST') res.writeHead(answer.post).end()
      else res.writeHead(answer.budget).end(answer.budgetBody)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/settle/`
})
afterEach(async () => {
  for (const a of open.splice(0)) await a.close()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await dir.remove()
})

describe('HttpBudgetAdapter receipts', () => {
  it('POSTs sealed receipts in order to <url>/receipts with the key and exact integers; open ones are not sent', async () => {
    const a = await adapter()
    const max63 = 2n ** 63n - 1n
    a.recordSettlement(receipt(1n, 5n), { sealed: true })
    a.recordSettlement(receipt(6n, 6n), { sealed: false })
    a.recordSettlement(receipt(6n, 2n ** 53n + 1n, max63, 0n), { sealed: true })
    a.recordSettlement(receipt(2n ** 64n - 2n, 2n ** 64n - 1n, 0n, max63), { sealed: true })
    await a.idle()
    expect(posts().map((p) => p.url)).toEqual(['/settle/receipts', '/settle/receipts', '/settle/receipts'])
    expect(posts().map((p) => p.key)).toEqual([
      'receipt:survivor:1:5', `receipt:survivor:6:${2n ** 53n + 1n}`, `receipt:survivor:${2n ** 64n - 2n}:${2n ** 64n - 1n}`
    ])
    expect(posts()[1]!.body).toContain(`"epochEnd":9007199254740993,"costMicrocents":9223372036854775807,"budgetAfter":0,`)
    expect(posts()[2]!.body).toContain('"epochStart":18446744073709551614,"epochEnd":18446744073709551615')
    const first = JSON.parse(posts()[0]!.body) as Record<string, unknown>
    expect(first).toMatchObject({ agentId: 'survivor', nodeId: SIGNER.nodeId, epochStart: 1, epochEnd: 5, costMicrocents: 10, budgetAfter: 1000, timestampNs: 1700000000123456800 })
    expect(Buffer.from(first.receipt as string, 'base64')).toHaveLength(176) // the §15 vector's size
    expect(a.metrics()).toMatchObject({ outboxSize: 0, lagMs: 0, deliveredTotal: 3, failuresTotal: 0 })
  })

  it('retries a failure with doubling backoff capped at 60 s, holding later receipts behind it', async () => {
    answer.post = 503
    const a = await HttpBudgetAdapter.open({ url: base, dataDir: dir.path, log: silentLogger, clock, timeoutMs: 5_000, backoffMs: 10_000 })
    open.push(a)
    a.recordSettlement(receipt(1n, 5n), { sealed: true })
    a.recordSettlement(receipt(6n, 9n), { sealed: true })
    await a.idle()
    expect(posts().map((p) => p.key)).toEqual(['receipt:survivor:1:5'])
    const delays: number[] = []
    for (let i = 0; i < 4; i++) {
      delays.push(...fireTimers())
      await a.idle()
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 60_000])
    expect(posts().every((p) => p.key === 'receipt:survivor:1:5')).toBe(true)
    expect(a.metrics()).toMatchObject({ outboxSize: 2, failuresTotal: 5 })
    now += 5_000
    expect(a.metrics().lagMs).toBe(5_000)
    answer.post = 201
    fireTimers()
    await a.idle()
    expect(posts().slice(-2).map((p) => p.key)).toEqual(['receipt:survivor:1:5', 'receipt:survivor:6:9'])
    expect(a.metrics()).toMatchObject({ outboxSize: 0, deliveredTotal: 2 })
  })

  it('the outbox survives a restart: written before the POST, delivered by the next adapter, never resent after', async () => {
    answer.post = 500 // the server is "down" for the first adapter
    const first = await adapter()
    first.recordSettlement(receipt(1n, 5n), { sealed: true })
    first.recordSettlement(receipt(6n, 9n), { sealed: true })
    await first.idle()
    await first.close()
    expect(await readdir(join(dir.path, 'settlement', 'outbox', 'survivor'))).toEqual([
      '00000000000000000001-00000000000000000005.json', '00000000000000000006-00000000000000000009.json'
    ])
    answer.post = 200
    seen = []
    const second = await adapter()
    await second.idle()
    expect(posts().map((p) => p.key)).toEqual(['receipt:survivor:1:5', 'receipt:survivor:6:9'])
    expect(await readdir(join(dir.path, 'settlement', 'outbox', 'survivor'))).toEqual([])
    // A stay's start offers the whole list again: what was delivered is not sent twice.
    await second.close()
    seen = []
    const third = await adapter()
    third.recordSettlement(receipt(1n, 5n), { sealed: true })
    third.recordSettlement(receipt(6n, 9n), { sealed: true })
    third.recordSettlement(receipt(10n, 12n), { sealed: true })
    await third.idle()
    expect(posts().map((p) => p.key)).toEqual(['receipt:survivor:10:12'])
  })

  it('an outbox write that fails stops queueing that agent (nothing delivered past the lost one); the next start sends all in order', async () => {
    await mkdir(join(dir.path, 'settlement', 'outbox'), { recursive: true })
    await writeFile(join(dir.path, 'settlement', 'outbox', 'survivor'), 'not a directory')
    const first = await adapter()
    first.recordSettlement(receipt(1n, 5n), { sealed: true })
    first.recordSettlement(receipt(6n, 9n), { sealed: true })
    await first.idle()
    expect(posts()).toEqual([])
    expect(first.metrics().failuresTotal).toBe(1)
    await first.close()
    await rm(join(dir.path, 'settlement', 'outbox', 'survivor'))
    const second = await adapter()
    second.recordSettlement(receipt(1n, 5n), { sealed: true })
    second.recordSettlement(receipt(6n, 9n), { sealed: true })
    await second.idle()
    expect(posts().map((p) => p.key)).toEqual(['receipt:survivor:1:5', 'receipt:survivor:6:9'])
  })

  it('an open receipt starting at or before the last delivered tick (a reused id) forgets the delivery mark', async () => {
    const a = await adapter()
    a.recordSettlement(receipt(1n, 9n), { sealed: true })
    await a.idle()
    a.recordSettlement(receipt(1n, 0n, 0n), { sealed: false })
    a.recordSettlement(receipt(1n, 4n), { sealed: true })
    await a.idle()
    expect(posts().map((p) => p.key)).toEqual(['receipt:survivor:1:9', 'receipt:survivor:1:4'])
  })
})

describe('HttpBudgetAdapter budgets', () => {
  it('402 refuses with the body\'s first line, 200 accepts again; asked at most every 10 s from the cache', async () => {
    const a = await adapter()
    answer = { ...answer, budget: 402, budgetBody: 'insufficient funds: top up\nsecond line' }
    expect(a.validateBudget('survivor')).toEqual({ valid: true }) // never asked yet
    await a.idle()
    expect(a.validateBudget('survivor')).toEqual({ valid: false, reason: 'insufficient funds: top up' })
    expect(gets().map((g) => g.url)).toEqual(['/settle/budget/survivor'])
    answer = { ...answer, budget: 200, budgetBody: '' }
    now += 9_999
    for (let i = 0; i < 5; i++) expect(a.validateBudget('survivor').valid).toBe(false)
    await a.idle()
    expect(gets()).toHaveLength(1)
    now += 1
    a.validateBudget('survivor')
    await a.idle()
    expect(a.validateBudget('survivor')).toEqual({ valid: true })
    expect(gets()).toHaveLength(2)
  })

  it('404 is valid, 403 refuses; a bounded reason; network errors and other statuses keep the last verdict', async () => {
    const a = await adapter()
    answer = { ...answer, budget: 403, budgetBody: 'x'.repeat(10_000) }
    a.validateBudget('a1')
    await a.idle()
    const refused = a.validateBudget('a1')
    expect(refused.valid).toBe(false)
    expect((refused as { reason: string }).reason.length).toBeLessThanOrEqual(201)
    for (const status of [500, 302, 400]) {
      answer = { ...answer, budget: status, budgetBody: '' }
      now += 10_000
      a.validateBudget('a1')
      await a.idle()
      expect(a.validateBudget('a1').valid).toBe(false)
    }
    answer = { ...answer, budget: 404 }
    now += 10_000
    a.validateBudget('a1')
    await a.idle()
    expect(a.validateBudget('a1').valid).toBe(true)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    server.listen(0) // reopened elsewhere so afterEach can close it; the adapter's port is now refused
    now += 10_000
    a.validateBudget('a1')
    await a.idle()
    expect(a.validateBudget('a1').valid).toBe(true)
    expect(a.metrics().failuresTotal).toBe(4)
  })
})

describe('HttpBudgetAdapter against a server that never answers', () => {
  it('a budget check and a POST time out: counted as failures, the verdict kept, the receipt kept for a retry', async () => {
    const silent = createServer(() => { /* never answers */ })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`
      const a = await HttpBudgetAdapter.open({ url, dataDir: dir.path, log: silentLogger, clock, timeoutMs: 200 })
      open.push(a)
      a.validateBudget('survivor')
      a.recordSettlement(receipt(1n, 5n), { sealed: true })
      await a.idle()
      expect(a.validateBudget('survivor')).toEqual({ valid: true })
      expect(a.metrics()).toMatchObject({ outboxSize: 1, failuresTotal: 2 })
      expect(timers.filter((t) => !t.cancelled).map((t) => t.ms)).toEqual([1000])
    } finally {
      silent.closeAllConnections()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })
})

describe('parseSettlementUrl', () => {
  it('takes http(s) URLs and refuses the rest with a one-line reason', () => {
    expect(parseSettlementUrl('https://pay.example/api/').href).toBe('https://pay.example/api')
    for (const bad of ['ftp://x/', 'not a url', 'http://u:p@x/', 'http://x/?a=1', 'http://x/#f']) {
      expect(() => parseSettlementUrl(bad)).toThrow(RunnerError)
      try { parseSettlementUrl(bad) } catch (error) { expect((error as RunnerError).code).toBe('SETTLEMENT_URL_INVALID') }
    }
  })
})
