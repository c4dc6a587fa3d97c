/**
 * The agent-memory side of `igor.http_request` (SPEC §13), byte-compatible
 * with the reference: input limits, return codes, the `[len u32][body]`
 * response buffer with its size hints, and the observation payload. Pure
 * functions without Node imports, so the agent's worker can use them.
 */

/** Return codes (SPEC §13). A non-negative answer is the HTTP status. */
export const HTTP_ERR_TRANSPORT = -1
export const HTTP_ERR_TOO_LONG = -2
export const HTTP_ERR_HOST_BLOCKED = -3
export const HTTP_ERR_TIMEOUT = -4
export const HTTP_ERR_TOO_LARGE = -5
/** Ours: the node is not the agent's ACTIVE_OWNER with an unexpired lease; nothing was sent. */
export const HTTP_ERR_NOT_OWNER = -6

export type HttpErrorCode =
  | typeof HTTP_ERR_TRANSPORT | typeof HTTP_ERR_TOO_LONG | typeof HTTP_ERR_HOST_BLOCKED
  | typeof HTTP_ERR_TIMEOUT | typeof HTTP_ERR_TOO_LARGE | typeof HTTP_ERR_NOT_OWNER

/** Input size limits, checked before any memory read (SPEC §13 step 1). */
export const HTTP_LIMITS = Object.freeze({
  methodBytes: 16,
  urlBytes: 8192,
  headersBytes: 32768,
  bodyBytes: 1024 * 1024
})

/** Hostcall id of a completed call in the tick's event log (SPEC §12). */
export const HTTP_HOSTCALL_ID = 8

/** Step 1: −2 when any length is over its limit, else 0. Lengths are unsigned. */
export function checkHttpInputSizes(methodLen: number, urlLen: number, headersLen: number, bodyLen: number): 0 | typeof HTTP_ERR_TOO_LONG {
  if (methodLen >>> 0 > HTTP_LIMITS.methodBytes || urlLen >>> 0 > HTTP_LIMITS.urlBytes ||
    headersLen >>> 0 > HTTP_LIMITS.headersBytes || bodyLen >>> 0 > HTTP_LIMITS.bodyBytes) return HTTP_ERR_TOO_LONG
  return 0
}

/**
 * `Name: Value` lines separated by `\n`: each line trimmed, empty or colon-less
 * lines skipped, split at the first colon, later duplicates win (names compared
 * case-insensitively, as HTTP does).
 */
export function parseHeaderLines(text: string): Array<[string, string]> {
  const byName = new Map<string, [string, string]>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    const colon = line.indexOf(':')
    if (line === '' || colon < 0) continue
    const name = line.slice(0, colon).trim()
    byName.set(name.toLowerCase(), [name, line.slice(colon + 1).trim()])
  }
  return [...byName.values()]
}

/** The host an allow-list is checked against: lower-cased, port and IPv6 brackets stripped; null for anything but an absolute http(s) URL. */
export function httpUrlHost(url: string | URL): string | null {
  let parsed: URL
  try {
    parsed = typeof url === 'string' ? new URL(url) : url
  } catch {
    return null
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
  return parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
}

/** SPEC §13 step 3 (ours: an empty list allows nothing). */
export function isAllowedHost(url: string | URL, allowedHosts: readonly string[]): boolean {
  const host = httpUrlHost(url)
  return host !== null && host !== '' && allowedHosts.includes(host)
}

/** `<agentId>:<tickNumber>:<n>`, n = the call's index within the tick. */
export function idempotencyKey(agentId: string, tickNumber: bigint, callIndex: number): string {
  return `${agentId}:${tickNumber}:${callIndex}`
}

/**
 * Steps 6–8: writes the answer into agent memory and returns the hostcall's
 * result. `body` may be longer than `maxResponseBytes` (the node reads at most
 * one byte more, so a too-long body is seen as `max + 1` bytes).
 * Returns −1 if the response region is out of bounds.
 */
export function writeHttpResponse(memory: Uint8Array, respPtr: number, respCap: number, status: number, body: Uint8Array, maxResponseBytes: number): number {
  const ptr = respPtr >>> 0
  const cap = respCap >>> 0
  const hint = (value: number): number => {
    if (cap >= 4 && ptr + 4 <= memory.length) new DataView(memory.buffer, memory.byteOffset + ptr, 4).setUint32(0, value, true)
    return HTTP_ERR_TOO_LARGE
  }
  if (body.length > maxResponseBytes) return hint(maxResponseBytes + 1)
  if (4 + body.length > cap) return hint(body.length)
  if (ptr + 4 + body.length > memory.length) return HTTP_ERR_TRANSPORT
  new DataView(memory.buffer, memory.byteOffset + ptr, 4).setUint32(0, body.length, true)
  memory.set(body, ptr + 4)
  return status
}

/** Step 9: the observation payload `[status u32 LE][body]`. */
export function httpObservation(status: number, body: Uint8Array): Uint8Array {
  const payload = new Uint8Array(4 + body.length)
  new DataView(payload.buffer).setUint32(0, status >>> 0, true)
  payload.set(body, 4)
  return payload
}
