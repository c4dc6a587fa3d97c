/**
 * SPEC §15 `wallet_pay`: `capabilities.x402.options`, validated.
 * `"x402": {"version": 1, "options": {"allowed_recipients": [...], "max_payment_microcents": N}}`.
 * Ours: an absent or empty `allowed_recipients` allows nothing; non-string
 * entries, a non-array list or a recipient over 256 bytes are refused (the
 * hostcall could never match it); `max_payment_microcents` is an integer in
 * 0 … 2^63−1 (0 or absent: no cap beyond the budget).
 */
import { JsonNumber, jsonNumberToBigInt } from './exact-json.js'
import type { JsonObject, JsonValue } from './exact-json.js'

export interface X402Options {
  /** Exact recipient strings; empty allows nothing. */
  readonly allowedRecipients: readonly string[]
  /** i64 microcents; 0 = no cap. */
  readonly maxPaymentMicrocents: bigint
}

export const DEFAULT_X402_OPTIONS: X402Options = Object.freeze({ allowedRecipients: Object.freeze([]), maxPaymentMicrocents: 0n })

const I64_MAX = (1n << 63n) - 1n
const MAX_RECIPIENT_BYTES = 256
/** Ours: more entries than this is a manifest mistake, not a policy. */
export const MAX_ALLOWED_RECIPIENTS = 1024

type Fail = (message: string) => never

export function readX402Options(value: JsonValue | undefined, field: string, fail: Fail): X402Options {
  if (value === undefined || value === null) return DEFAULT_X402_OPTIONS
  if (!(value instanceof Map)) return fail(`${field} must be an object (got ${describe(value)})`)
  const options: JsonObject = value
  const list = options.get('allowed_recipients')
  let allowedRecipients: string[] = []
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) return fail(`${field}.allowed_recipients must be an array of strings (got ${describe(list)})`)
    if (list.length > MAX_ALLOWED_RECIPIENTS) return fail(`${field}.allowed_recipients has ${list.length} entries, at most ${MAX_ALLOWED_RECIPIENTS} allowed`)
    for (const [index, entry] of list.entries()) {
      if (typeof entry !== 'string') return fail(`${field}.allowed_recipients[${index}] must be a string (got ${describe(entry)})`)
      const bytes = new TextEncoder().encode(entry).byteLength
      if (bytes === 0 || bytes > MAX_RECIPIENT_BYTES) return fail(`${field}.allowed_recipients[${index}] must be 1 … ${MAX_RECIPIENT_BYTES} bytes (got ${bytes})`)
    }
    allowedRecipients = [...new Set(list as string[])]
  }
  const max = options.get('max_payment_microcents')
  let maxPaymentMicrocents = 0n
  if (max !== undefined && max !== null) {
    const integer = max instanceof JsonNumber ? jsonNumberToBigInt(max) : null
    if (integer === null || integer < 0n || integer > I64_MAX) return fail(`${field}.max_payment_microcents must be an integer in 0 … ${I64_MAX} (got ${describe(max)})`)
    maxPaymentMicrocents = integer
  }
  return Object.freeze({ allowedRecipients: Object.freeze(allowedRecipients), maxPaymentMicrocents })
}

function describe(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.text
  if (value instanceof Map) return 'an object'
  if (Array.isArray(value)) return 'an array'
  return JSON.stringify(value)
}
