/**
 * The node side of `igor.http_request` (SPEC §13 steps 3–5): the allow-list,
 * the output gate, and the request itself, performed on the node's main
 * thread with node:http/https while the agent's worker waits. Never blocks
 * the event loop; never throws for anything the agent or the network does.
 *
 * Ours where the reference differs or is silent:
 * - an empty allow-list allows nothing;
 * - the gate (`isOwner`) is asked right before the request leaves, and again
 *   before each redirect hop: a node that lost the lease sends nothing (−6);
 * - redirects (301, 302, 303, 307, 308) are followed at most 5 times, each
 *   target re-checked against the allow-list (a disallowed target → −3, more
 *   than 5 hops → −1); 301/302/303 turn a non-GET/HEAD into a body-less GET,
 *   as Go's client does; Authorization and Cookie are dropped when the host
 *   changes;
 * - no proxy (proxy environment variables are never read), no cookie jar, no
 *   connection reuse between calls;
 * - the agent's own `Idempotency-Key` header is replaced by the node's;
 * - the node's egress policy (SPEC §13 "The node's egress policy") is checked
 *   on every address the request's host resolves to, in the connection's own
 *   DNS lookup (an IP literal directly), on the first hop and on every
 *   redirect: a denied address → −3, nothing sent to it;
 * - `--http-rate`: over the agent's requests per second → −4, nothing sent.
 */
import { lookup as dnsLookup } from 'node:dns'
import type { LookupAddress, LookupAllOptions } from 'node:dns'
import { isIP } from 'node:net'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { HttpOptions } from '../manifest/http-options.js'
import type { EgressPolicy } from './egress-policy.js'
import {
  HTTP_ERR_HOST_BLOCKED, HTTP_ERR_NOT_OWNER, HTTP_ERR_TIMEOUT, HTTP_ERR_TRANSPORT, idempotencyKey, isAllowedHost, parseHeaderLines
} from './http-abi.js'

export const MAX_REDIRECTS = 5

export interface HttpCall {
  /** As the agent wrote it; empty means GET. */
  readonly method: string
  readonly url: string
  /** `Name: Value` lines (SPEC §13). */
  readonly headers: string
  readonly body: Uint8Array
}

export interface HttpCallContext {
  readonly options: HttpOptions
  readonly agentId: string
  /** The tick this call belongs to (the node's tick number). */
  readonly tickNumber: bigint
  /** n, the call's index within the tick. */
  readonly callIndex: number
  /** The output gate: true only while this node is ACTIVE_OWNER with an unexpired lease. */
  isOwner(): boolean
  /**
   * Milliseconds this call may take at most, when the tick's wall-time bound
   * is tighter than `timeout_ms` (SPEC §13: a tick's total wall time is bounded).
   */
  readonly maxWaitMs?: number
  /** The node's egress policy (SPEC §13); absent: only the agent's allow-list applies. */
  readonly egress?: EgressPolicy | null
  /** The agent's `--http-rate` allowance; absent: no rate limit. */
  readonly rate?: { take(): boolean } | null
}

export type HttpCallResult =
  | { readonly ok: true, readonly status: number, readonly body: Uint8Array }
  | { readonly ok: false, readonly code: typeof HTTP_ERR_TRANSPORT | typeof HTTP_ERR_HOST_BLOCKED | typeof HTTP_ERR_TIMEOUT | typeof HTTP_ERR_NOT_OWNER, readonly reason: string }

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const SENSITIVE = new Set(['authorization', 'cookie', 'proxy-authorization'])

/**
 * Steps 3–5. On success `body` holds at most `maxResponseBytes + 1` bytes:
 * one more than allowed is enough for `writeHttpResponse` to answer −5.
 */
export async function performHttpCall(call: HttpCall, context: HttpCallContext): Promise<HttpCallResult> {
  const { options } = context
  let url: URL
  try {
    url = new URL(call.url)
  } catch {
    return { ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: 'not an absolute URL' }
  }
  if (!isAllowedHost(url, options.allowedHosts)) return { ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: `host ${JSON.stringify(url.hostname)} is not in allowed_hosts` }
  if (!context.isOwner()) return { ok: false, code: HTTP_ERR_NOT_OWNER, reason: 'not the owner' }
  if (context.rate !== undefined && context.rate !== null && !context.rate.take()) {
    return { ok: false, code: HTTP_ERR_TIMEOUT, reason: 'over this node\'s --http-rate for the agent' }
  }
  const egress = context.egress ?? null

  const headers: OutgoingHttpHeaders = {}
  for (const [name, value] of parseHeaderLines(call.headers)) headers[name] = value
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'idempotency-key') delete headers[name]
  headers['Idempotency-Key'] = idempotencyKey(context.agentId, context.tickNumber, context.callIndex)

  const timeoutMs = Math.max(0, Math.min(options.timeoutMs, context.maxWaitMs ?? Infinity))
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeoutMs)
  try {
    let method = call.method === '' ? 'GET' : call.method
    let body: Uint8Array | null = call.body.length > 0 || !['GET', 'HEAD'].includes(method.toUpperCase()) ? call.body : null
    for (let hop = 0; ; hop++) {
      const response = await send(url, method, headers, body, controller.signal, egress)
      const status = response.statusCode ?? 0
      const location = response.headers.location
      if (!REDIRECTS.has(status) || location === undefined) {
        return { ok: true, status, body: await readBody(response, options.maxResponseBytes + 1) }
      }
      response.destroy()
      if (hop >= MAX_REDIRECTS) return { ok: false, code: HTTP_ERR_TRANSPORT, reason: `stopped after ${MAX_REDIRECTS} redirects` }
      let next: URL
      try {
        next = new URL(location, url)
      } catch {
        return { ok: false, code: HTTP_ERR_TRANSPORT, reason: `bad redirect location ${JSON.stringify(location)}` }
      }
      if (!isAllowedHost(next, options.allowedHosts)) {
        return { ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: `redirect to host ${JSON.stringify(next.hostname)}, which is not in allowed_hosts` }
      }
      if (!context.isOwner()) return { ok: false, code: HTTP_ERR_NOT_OWNER, reason: 'not the owner' }
      if (next.host !== url.host) {
        for (const name of Object.keys(headers)) if (SENSITIVE.has(name.toLowerCase())) delete headers[name]
      }
      if (status !== 307 && status !== 308 && !['GET', 'HEAD'].includes(method.toUpperCase())) {
        method = 'GET'
        body = null
        for (const name of Object.keys(headers)) if (['content-type', 'content-length'].includes(name.toLowerCase())) delete headers[name]
      }
      url = next
    }
  } catch (error) {
    if (error instanceof EgressDenied) return { ok: false, code: HTTP_ERR_HOST_BLOCKED, reason: `denied by this node's egress policy: ${error.message}` }
    if (timedOut) return { ok: false, code: HTTP_ERR_TIMEOUT, reason: `no answer within ${timeoutMs} ms` }
    return { ok: false, code: HTTP_ERR_TRANSPORT, reason: error instanceof Error ? error.message : String(error) }
  } finally {
    clearTimeout(timer)
    controller.abort() // closes whatever is still open
  }
}

/** The node's egress policy refused an address: the request is answered −3. */
class EgressDenied extends Error {
  readonly code = 'EGRESS_DENIED'
}

function portOf(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * The connection's DNS lookup (SPEC §13): every address the name resolves to
 * is checked at the moment the socket would connect, and one denied address
 * refuses the request (no address of it is tried).
 */
function guardedLookup(policy: EgressPolicy, url: URL) {
  const port = portOf(url)
  return (hostname: string, options: { all?: boolean, family?: number, hints?: number }, callback: LookupCallback): void => {
    const all: LookupAllOptions = { ...options, all: true }
    dnsLookup(hostname, all, (error, addresses) => {
      if (error !== null) { callback(error, []); return }
      if (addresses.length === 0) { callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), []); return }
      for (const { address } of addresses) {
        const verdict = policy.checkAddress(url.hostname, address, port)
        if (!verdict.allowed) { callback(new EgressDenied(verdict.reason), []); return }
      }
      if (options.all === true) callback(null, addresses)
      else callback(null, (addresses[0] as LookupAddress).address, (addresses[0] as LookupAddress).family)
    })
  }
}

function send(url: URL, method: string, headers: OutgoingHttpHeaders, body: Uint8Array | null, signal: AbortSignal, egress: EgressPolicy | null): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let lookup: ReturnType<typeof guardedLookup> | undefined
    if (egress !== null) {
      // SPEC §13: checked before anything is sent, on this hop's own host.
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
      const verdict = isIP(host) !== 0 ? egress.checkAddress(host, host, portOf(url)) : egress.checkName(host)
      if (verdict !== null && !verdict.allowed) { reject(new EgressDenied(verdict.reason)); return }
      lookup = guardedLookup(egress, url)
    }
    const requestHeaders = { ...headers }
    if (body !== null) requestHeaders['Content-Length'] = String(body.length)
    // agent: false → a fresh connection, nothing shared between agents or calls;
    // node:http never reads proxy variables. An IP literal never reaches `lookup`
    // (node connects to it directly), which is why it is checked above.
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method, headers: requestHeaders, agent: false, signal, ...(lookup !== undefined ? { lookup: lookup as never } : {})
    })
    request.once('response', resolve)
    // `on`, not `once`: a late second error (after an abort) must never go unheard and crash the node.
    request.on('error', reject)
    request.end(body ?? undefined)
  })
}

/** Reads at most `limit` bytes, then stops the transfer. */
function readBody(response: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    const done = (): void => {
      response.removeAllListeners('data')
      const all = Buffer.concat(chunks, length)
      resolve(new Uint8Array(all.buffer, all.byteOffset, all.length))
    }
    response.on('data', (chunk: Buffer) => {
      const take = Math.min(chunk.length, limit - length)
      if (take > 0) {
        chunks.push(chunk.subarray(0, take))
        length += take
      }
      if (length >= limit) {
        done()
        response.destroy()
      }
    })
    response.once('end', done)
    response.on('error', reject)
  })
}
