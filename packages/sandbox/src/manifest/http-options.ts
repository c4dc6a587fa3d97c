import { JsonNumber } from './exact-json.js'
import type { JsonObject, JsonValue } from './exact-json.js'

/** SPEC §13 defaults. */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
/** A response can never be larger than an agent's memory (SPEC §5: 64 MiB). */
export const MAX_RESPONSE_BYTES_LIMIT = 64 * 1024 * 1024
/** Longer than any tick may wait in total (SPEC §13: at most 15 s). */
export const MAX_HTTP_TIMEOUT_MS = 15_000

/** `capabilities.http.options`, validated (SPEC §13). */
export interface HttpOptions {
  /** Exact host names, lower-cased. Empty allows nothing (ours; the reference allows everything). */
  readonly allowedHosts: readonly string[]
  readonly timeoutMs: number
  readonly maxResponseBytes: number
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = Object.freeze({
  allowedHosts: Object.freeze([]),
  timeoutMs: DEFAULT_HTTP_TIMEOUT_MS,
  maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES
})

type Fail = (message: string) => never

/**
 * Reads `capabilities.http.options`. SPEC §13: hosts lower-cased, non-string
 * hosts ignored, numbers truncated toward zero, a value ≤ 0 refused.
 * Ours where the spec is silent: a non-array `allowed_hosts` or a non-number
 * limit is refused (the reference silently falls back), `timeout_ms` above
 * 15 000 is refused (no tick may wait longer), `max_response_bytes` above
 * 64 MiB is refused (no agent memory could hold it).
 */
export function readHttpOptions(value: JsonValue | undefined, field: string, fail: Fail): HttpOptions {
  if (value === undefined || value === null) return DEFAULT_HTTP_OPTIONS
  if (!(value instanceof Map)) return fail(`${field} must be an object (got ${describe(value)})`)
  const options: JsonObject = value
  const hostsValue = options.get('allowed_hosts')
  let allowedHosts: string[] = []
  if (hostsValue !== undefined && hostsValue !== null) {
    if (!Array.isArray(hostsValue)) return fail(`${field}.allowed_hosts must be an array of host names (got ${describe(hostsValue)})`)
    allowedHosts = [...new Set(hostsValue.filter((h): h is string => typeof h === 'string').map((h) => h.toLowerCase()))]
  }
  return Object.freeze({
    allowedHosts: Object.freeze(allowedHosts),
    timeoutMs: readPositive(options.get('timeout_ms'), `${field}.timeout_ms`, DEFAULT_HTTP_TIMEOUT_MS, MAX_HTTP_TIMEOUT_MS, fail),
    maxResponseBytes: readPositive(options.get('max_response_bytes'), `${field}.max_response_bytes`, DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES_LIMIT, fail)
  })
}

function readPositive(value: JsonValue | undefined, field: string, fallback: number, max: number, fail: Fail): number {
  if (value === undefined || value === null) return fallback
  if (!(value instanceof JsonNumber)) return fail(`${field} must be a number (got ${describe(value)})`)
  const number = Math.trunc(Number(value.text))
  if (!Number.isFinite(number) || number <= 0) return fail(`${field} must be greater than 0 (got ${value.text})`)
  if (number > max) return fail(`${field} ${value.text} exceeds the limit ${max}`)
  return number
}

function describe(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.text
  if (value instanceof Map) return 'an object'
  if (Array.isArray(value)) return 'an array'
  return JSON.stringify(value)
}
