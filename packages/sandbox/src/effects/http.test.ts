// http_request, node side (SPEC §13), against a local node:http server on
// 127.0.0.1 only.
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_HTTP_OPTIONS } from '../manifest/http-options.js'
import type { HttpOptions } from '../manifest/http-options.js'
import {
  HTTP_ERR_HOST_BLOCKED, HTTP_ERR_NOT_OWNER, HTTP_ERR_TIMEOUT, HTTP_ERR_TOO_LARGE, HTTP_ERR_TOO_LONG, HTTP_ERR_TRANSPORT,
  checkHttpInputSizes, httpObservation, httpUrlHost, isAllowedHost, parseHeaderLines, writeHttpResponse
} from './http-abi.js'
import { performHttpCall } from './http.js'
import { EgressPolicy } from './egress-policy.js'
import { HttpRateLimiter } from './http-rate.js'
import type { HttpCall, HttpCallContext } from './http.js'

const PRICES = '{"bitcoin":{"usd":83456.78},"ethereum":{"usd":1923.45}}'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

let server: Server
let base = ''
const seen: Seen[] = []
const hanging = new Set<ServerResponse>()

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
  const url = new URL(req.url ?? '/', base)
  switch (url.pathname) {
    case '/prices': res.writeHead(200, { 'content-type': 'application/json' }).end(PRICES); return
    case '/missing': res.writeHead(404).end('nope'); return
    case '/big': res.writeHead(200).end('x'.repeat(Number(url.searchParams.get('n') ?? 9000))); return
    case '/echo': res.writeHead(201).end(body); return
    case '/hang': hanging.add(res); return
    case '/redirect': {
      const to = url.searchParams.get('to') ?? '/prices'
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end(); return
    }
    case '/loop': {
      const n = Number(url.searchParams.get('n') ?? 0)
      res.writeHead(302, { location: `/loop?n=${n + 1}` }).end(); return
    }
    default: res.writeHead(500).end()
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => route(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const res of hanging) res.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

function options(overrides: Partial<HttpOptions> = {}): HttpOptions {
  return { ...DEFAULT_HTTP_OPTIONS, allowedHosts: ['127.0.0.1'], ...overrides }
}

function context(overrides: Partial<HttpCallContext> = {}): HttpCallContext {
  return { options: options(), agentId: 'agent-1', tickNumber: 7n, callIndex: 0, isOwner: () => true, ...overrides }
}

function call(path: string, overrides: Partial<HttpCall> = {}): HttpCall {
  return { method: '', url: `${base}${path}`, headers: '', body: new Uint8Array(0), ...overrides }
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('performHttpCall', () => {
  it('GETs with the Idempotency-Key header and returns status and body', async () => {
    seen.length = 0
    const result = await performHttpCall(call('/prices', { headers: 'Accept: application/json\n\n  junk line  \nX-A: 1\nx-a: 2\nIdempotency-Key: mine' }), context())
    expect(result).toMatchObject({ ok: true, status: 200 })
    if (!result.ok) return
    expect(text(result.body)).toBe(PRICES)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/prices' })
    expect(seen[0]!.headers['idempotency-key']).toBe('agent-1:7:0')
    expect(seen[0]!.headers.accept).toBe('application/json')
    expect(seen[0]!.headers['x-a']).toBe('2') // later duplicates win
    expect(seen[0]!.headers.cookie).toBeUndefined()
  })

  it('any status is a completed call; POST bodies arrive', async () => {
    const missing = await performHttpCall(call('/missing'), context())
    expect(missing).toMatchObject({ ok: true, status: 404 })
    const posted = await performHttpCall(call('/echo', { method: 'POST', body: new TextEncoder().encode('{"a":1}'), headers: 'Content-Type: application/json' }), context({ callIndex: 3 }))
    expect(posted.ok && text(posted.body)).toBe('{"a":1}')
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"a":1}' })
    expect(seen.at(-1)!.headers['idempotency-key']).toBe('agent-1:7:3')
  })

  it('−3 for a host outside the allow-list, an empty list, or a non-http URL; nothing sent', async () => {
    const before = seen.length
    expect(await performHttpCall(call('/prices'), context({ options: options({ allowedHosts: [] }) }))).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED })
    expect(await performHttpCall(call('/prices'), context({ options: options({ allowedHosts: ['localhost'] }) }))).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED })
    expect(await performHttpCall(call('', { url: 'ftp://127.0.0.1/x' }), context())).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED })
    expect(await performHttpCall(call('', { url: '/relative' }), context())).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED })
    expect(seen.length).toBe(before)
  })

  it('−6 when the node is not the owner at the moment of the call; nothing sent', async () => {
    const before = seen.length
    expect(await performHttpCall(call('/prices'), context({ isOwner: () => false }))).toMatchObject({ ok: false, code: HTTP_ERR_NOT_OWNER })
    expect(seen.length).toBe(before)
  })

  it('follows redirects to allowed hosts only, at most 5, re-checking the gate on each hop', async () => {
    const ok = await performHttpCall(call('/redirect?to=/prices'), context())
    expect(ok.ok && text(ok.body)).toBe(PRICES)
    expect(seen.at(-1)!.headers['idempotency-key']).toBe('agent-1:7:0')

    const before = seen.length
    const away = await performHttpCall(call('/redirect?to=http://example.com/'), context())
    expect(away).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED })
    expect(seen.length).toBe(before + 1) // only the first hop went out

    const loop = await performHttpCall(call('/loop'), context())
    expect(loop).toMatchObject({ ok: false, code: HTTP_ERR_TRANSPORT })
    expect(seen.slice(-6).map((s) => s.url)).toEqual(['/loop', '/loop?n=1', '/loop?n=2', '/loop?n=3', '/loop?n=4', '/loop?n=5'])

    let calls = 0
    const lost = await performHttpCall(call('/redirect?to=/prices'), context({ isOwner: () => calls++ === 0 }))
    expect(lost).toMatchObject({ ok: false, code: HTTP_ERR_NOT_OWNER })

    // 303 turns a POST into a body-less GET; 307 keeps the method and body
    await performHttpCall(call('/redirect?status=303&to=/echo', { method: 'POST', body: new TextEncoder().encode('b') }), context())
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/echo', body: '' })
    const kept = await performHttpCall(call('/redirect?status=307&to=/echo', { method: 'POST', body: new TextEncoder().encode('b') }), context())
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/echo', body: 'b' })
    expect(kept.ok && text(kept.body)).toBe('b')
  })

  it('−4 on timeout, −1 on a refused connection', async () => {
    const slow = await performHttpCall(call('/hang'), context({ options: options({ timeoutMs: 200 }) }))
    expect(slow).toMatchObject({ ok: false, code: HTTP_ERR_TIMEOUT })
    const bounded = await performHttpCall(call('/hang'), context({ maxWaitMs: 100 }))
    expect(bounded).toMatchObject({ ok: false, code: HTTP_ERR_TIMEOUT })
    // a port nothing listens on: bind one, note it, close it
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    expect(await performHttpCall(call('', { url: `http://127.0.0.1:${port}/` }), context())).toMatchObject({ ok: false, code: HTTP_ERR_TRANSPORT })
    // a method node refuses to send
    expect(await performHttpCall(call('/prices', { method: 'BAD METHOD' }), context())).toMatchObject({ ok: false, code: HTTP_ERR_TRANSPORT })
  })

  it('reads at most max_response_bytes + 1', async () => {
    const result = await performHttpCall(call('/big?n=5000'), context({ options: options({ maxResponseBytes: 1000 }) }))
    expect(result.ok && result.body.length).toBe(1001)
  })
})

describe('the node\'s egress policy and --http-rate (SPEC §13 "The node\'s egress policy")', () => {
  const port = (): number => Number(new URL(base).port)

  it('loopback allowed by the agent but not by the node → −3, nothing sent; --http-allow 127.0.0.1/32 lets it through', async () => {
    const before = seen.length
    const refused = await performHttpCall(call('/prices'), context({ egress: EgressPolicy.parse() }))
    expect(refused).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: expect.stringContaining('127.0.0.1 is loopback, denied by default') })
    expect(seen.length).toBe(before)
    const ok = await performHttpCall(call('/prices'), context({ egress: EgressPolicy.parse({ allow: ['127.0.0.1/32'] }) }))
    expect(ok.ok && text(ok.body)).toBe(PRICES)
  })

  it('a name that resolves to loopback is checked on its resolved addresses (localhost → −3)', async () => {
    const before = seen.length
    const localhost = call('', { url: `http://localhost:${port()}/prices` })
    const agentAllows = context({ options: options({ allowedHosts: ['localhost'] }) })
    expect(await performHttpCall(localhost, { ...agentAllows, egress: EgressPolicy.parse() })).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: expect.stringContaining('(localhost resolved to it)') })
    expect(await performHttpCall(localhost, { ...agentAllows, egress: EgressPolicy.parse({ deny: ['localhost'] }) })).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED })
    expect(seen.length).toBe(before)
    // allowed by name, the node connects to whatever localhost resolves to
    const ok = await performHttpCall(localhost, { ...agentAllows, egress: EgressPolicy.parse({ allow: ['localhost'] }) })
    expect(ok.ok && text(ok.body)).toBe(PRICES)
  })

  it('every redirect hop is checked: a hop to an address the node denies → −3 after the first hop only', async () => {
    const egress = EgressPolicy.parse({ allow: ['127.0.0.1'] })
    const before = seen.length
    const away = await performHttpCall(call(`/redirect?to=http://127.0.0.2:${port()}/prices`), context({ egress, options: options({ allowedHosts: ['127.0.0.1', '127.0.0.2'] }) }))
    expect(away).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: expect.stringContaining('127.0.0.2 is loopback') })
    expect(seen.length).toBe(before + 1)
    const mapped = await performHttpCall(call(`/redirect?to=http://[::ffff:169.254.169.254]/latest`), context({ egress, options: options({ allowedHosts: ['127.0.0.1', '::ffff:a9fe:a9fe'] }) }))
    expect(mapped).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: expect.stringContaining('link-local') })
  })

  it('the node\'s own listening port is refused even with loopback allowed', async () => {
    const egress = EgressPolicy.parse({ allow: ['127.0.0.0/8'] })
    egress.addOwnEndpoint('127.0.0.1', port())
    const before = seen.length
    expect(await performHttpCall(call('/prices'), context({ egress }))).toMatchObject({ ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: expect.stringContaining('own listening address') })
    expect(seen.length).toBe(before)
  })

  it('over --http-rate → −4, nothing sent; refused by the allow-list or the gate does not count', async () => {
    const rate = new HttpRateLimiter(2)
    const egress = EgressPolicy.parse({ allow: ['127.0.0.1'] })
    expect(await performHttpCall(call('/prices'), context({ rate, egress, isOwner: () => false }))).toMatchObject({ code: HTTP_ERR_NOT_OWNER })
    expect((await performHttpCall(call('/prices'), context({ rate, egress }))).ok).toBe(true)
    expect((await performHttpCall(call('/prices'), context({ rate, egress }))).ok).toBe(true)
    const before = seen.length
    expect(await performHttpCall(call('/prices'), context({ rate, egress }))).toMatchObject({ ok: false, code: HTTP_ERR_TIMEOUT, reason: expect.stringContaining('--http-rate') })
    expect(seen.length).toBe(before)
  })
})

describe('the agent-memory side (SPEC §13 vectors)', () => {
  it('status 200 with the prices body → 37000000 7b22…7d7d, observation c8000000 7b22…', () => {
    const memory = new Uint8Array(8192 + 64)
    const body = new TextEncoder().encode(PRICES)
    expect(writeHttpResponse(memory, 64, 8192, 200, body, 1 << 20)).toBe(200)
    expect(hex(memory.subarray(64, 64 + 4 + body.length))).toBe(`37000000${hex(body)}`)
    expect(hex(memory.subarray(64, 72))).toBe('370000007b226269')
    expect(hex(httpObservation(200, body))).toBe(`c8000000${hex(body)}`)
  })

  it('a 9 000-byte body into resp_cap 8 192 → −5 with 28230000', () => {
    const memory = new Uint8Array(8192)
    expect(writeHttpResponse(memory, 0, 8192, 200, new Uint8Array(9000), 1 << 20)).toBe(HTTP_ERR_TOO_LARGE)
    expect(hex(memory.subarray(0, 4))).toBe('28230000')
  })

  it('over max_response_bytes → hint max + 1; no hint when resp_cap < 4; out of bounds → −1', () => {
    const memory = new Uint8Array(64)
    expect(writeHttpResponse(memory, 0, 64, 200, new Uint8Array(11), 10)).toBe(HTTP_ERR_TOO_LARGE)
    expect(new DataView(memory.buffer).getUint32(0, true)).toBe(11)
    const untouched = new Uint8Array(8).fill(0xaa)
    expect(writeHttpResponse(untouched, 0, 3, 200, new Uint8Array(5), 100)).toBe(HTTP_ERR_TOO_LARGE)
    expect(hex(untouched)).toBe('aaaaaaaaaaaaaaaa')
    expect(writeHttpResponse(new Uint8Array(16), 10, 100, 200, new Uint8Array(5), 100)).toBe(HTTP_ERR_TRANSPORT)
    // an empty body still writes its length
    const empty = new Uint8Array(4).fill(0xff)
    expect(writeHttpResponse(empty, 0, 4, 204, new Uint8Array(0), 100)).toBe(204)
    expect(hex(empty)).toBe('00000000')
  })

  it('input size limits → −2', () => {
    expect(checkHttpInputSizes(16, 8192, 32768, 1 << 20)).toBe(0)
    expect(checkHttpInputSizes(17, 0, 0, 0)).toBe(HTTP_ERR_TOO_LONG)
    expect(checkHttpInputSizes(0, 8193, 0, 0)).toBe(HTTP_ERR_TOO_LONG)
    expect(checkHttpInputSizes(0, 0, 32769, 0)).toBe(HTTP_ERR_TOO_LONG)
    expect(checkHttpInputSizes(0, 0, 0, (1 << 20) + 1)).toBe(HTTP_ERR_TOO_LONG)
    expect(checkHttpInputSizes(-1, 0, 0, 0)).toBe(HTTP_ERR_TOO_LONG) // lengths are unsigned
  })

  it('hosts and headers', () => {
    expect(httpUrlHost('HTTPS://API.Example.com:8443/x')).toBe('api.example.com')
    expect(httpUrlHost('http://[::1]:80/')).toBe('::1')
    expect(httpUrlHost('file:///etc/passwd')).toBeNull()
    expect(isAllowedHost('http://127.0.0.1:9/', ['127.0.0.1'])).toBe(true)
    expect(isAllowedHost('http://127.0.0.1:9/', [])).toBe(false)
    expect(parseHeaderLines(' A : 1 \nnocolon\n\nB: x:y\na: 3')).toEqual([['a', '3'], ['B', 'x:y']])
  })
})
