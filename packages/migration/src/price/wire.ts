// SPEC §15 `/igor/price/1.0.0`: the asker writes one JSON object and a newline (`{}` or
// `{"agent_id":"<id>"}`); the node answers `{"price_per_second":<int>,"node_id":"<peer id>"}` and a
// newline, as the reference's Go encoder writes it, then (ours) `capabilities`, `agents` and
// `max_agents`, which a reference asker ignores. A refusal (ours) is `{"error":…,"code":…,"node_id":…}`:
// no `price_per_second`, so a reference asker reads price 0, which it treats as unknown.
// Integers are exact both ways (bigint, read from the number's text).
import { MigrationError } from '../errors.js'
import { FieldReader } from '../wire/fields.js'
import { asBuffer, checkStrings, decodeJsonString, parseJson } from '../wire/json-parse.js'
import { goQuote } from '../wire/json-write.js'

export const PRICE_PROTOCOL = '/igor/price/1.0.0'

/** The asker's question. `agentId` is the reference's "future use" field; the answer does not depend on it. */
export interface PriceQuery {
  readonly agentId?: string
}

/** A node's answer. The last three are ours; absent from a reference node. */
export interface PriceAnswer {
  /** Microcents per second, 0 … 2^63-1. */
  readonly pricePerSecond: bigint
  /** The answering node's peer id, as it says. */
  readonly nodeId: string
  /** What an agent arriving there may declare; undefined when the node did not say. */
  readonly capabilities?: readonly string[]
  /** Agents it holds; undefined when the node did not say. */
  readonly agents?: number
  /** Its `--max-agents`, 0 = no cap; undefined when the node did not say. */
  readonly maxAgents?: number
}

/** Why a node would not answer with its price (ours): `RATE_LIMITED` or `BAD_REQUEST`. */
export type PriceRefusalCode = 'RATE_LIMITED' | 'BAD_REQUEST'

const enc = new TextEncoder()
/** Longest agent id accepted in a query (SPEC §5 ids are far shorter). */
const MAX_QUERY_AGENT_ID = 256
/** Most capabilities read from an answer, and the longest name. */
const MAX_CAPABILITIES = 64
const MAX_CAPABILITY_NAME = 64

/** `{}\n`, or `{"agent_id":"…"}\n` (Go's `omitempty`). */
export function encodePriceQuery(query: PriceQuery = {}): Uint8Array {
  return enc.encode(query.agentId === undefined || query.agentId === '' ? '{}\n' : `{"agent_id":${goQuote(query.agentId)}}\n`)
}

/**
 * Reads a query as Go's decoder would into the reference's `PriceRequest`:
 * unknown fields ignored, `agent_id` a string (or null) when present.
 * Anything else → `MigrationError('BAD_TRANSFER')`.
 */
export function decodePriceQuery(bytes: Uint8Array): PriceQuery {
  const fields = new FieldReader(asBuffer(bytes), 'BAD_TRANSFER', 'PriceRequest', parseJson(bytes, 'BAD_TRANSFER', 'PriceRequest'), ['agent_id'])
  const node = fields.optional('agent_id')
  if (node === undefined || node.kind === 'null') return {}
  const agentId = fields.string('agent_id')
  if (agentId.length > MAX_QUERY_AGENT_ID) fields.fail('PriceRequest.agent_id', `longer than ${MAX_QUERY_AGENT_ID} characters`)
  return agentId === '' ? {} : { agentId }
}

/** The answer: the reference's two fields first, in its order, ours after; one line. */
export function encodePriceAnswer(answer: PriceAnswer): Uint8Array {
  let text = `{"price_per_second":${answer.pricePerSecond.toString()},"node_id":${goQuote(answer.nodeId)}`
  if (answer.capabilities !== undefined) text += `,"capabilities":[${answer.capabilities.map(goQuote).join(',')}]`
  if (answer.agents !== undefined) text += `,"agents":${answer.agents}`
  if (answer.maxAgents !== undefined) text += `,"max_agents":${answer.maxAgents}`
  return enc.encode(`${text}}\n`)
}

/** A refusal (ours): one line saying why, its code, and who refused. */
export function encodePriceRefusal(nodeId: string, code: PriceRefusalCode, reason: string): Uint8Array {
  return enc.encode(`{"error":${goQuote(reason)},"code":${goQuote(code)},"node_id":${goQuote(nodeId)}}\n`)
}

/**
 * Reads an answer, exactly: `price_per_second` 0 … 2^63-1, `node_id` a
 * string, ours checked when present. A refusal (`error`) throws
 * `MigrationError('RATE_LIMITED')` for that code, else `QUERY_REFUSED`; a
 * malformed answer `BAD_REPLY`.
 */
export function decodePriceAnswer(bytes: Uint8Array): PriceAnswer {
  const src = asBuffer(bytes)
  const fields = new FieldReader(src, 'BAD_REPLY', 'PriceResponse', parseJson(bytes, 'BAD_REPLY', 'PriceResponse'),
    ['price_per_second', 'node_id', 'capabilities', 'agents', 'max_agents', 'error', 'code'])
  if (fields.optional('error') !== undefined) {
    const reason = fields.string('error')
    const code = fields.string('code', { optional: true })
    const who = fields.string('node_id', { optional: true })
    const line = `price query refused${who !== '' ? ` by ${who}` : ''}: ${reason.split('\n')[0]?.slice(0, 300) ?? ''}`
    throw new MigrationError(code === 'RATE_LIMITED' ? 'RATE_LIMITED' : 'QUERY_REFUSED', line)
  }
  const answer: { -readonly [K in keyof PriceAnswer]: PriceAnswer[K] } = {
    pricePerSecond: fields.nonNegativeI64('price_per_second'),
    nodeId: fields.string('node_id')
  }
  const capabilities = fields.optional('capabilities')
  if (capabilities !== undefined && capabilities.kind !== 'null') {
    if (capabilities.kind !== 'array') throw new MigrationError('BAD_REPLY', 'PriceResponse.capabilities: expected an array of strings')
    if (capabilities.items.length > MAX_CAPABILITIES) fields.fail('PriceResponse.capabilities', `more than ${MAX_CAPABILITIES} entries`)
    answer.capabilities = capabilities.items.map((item, i) => {
      const field = `PriceResponse.capabilities[${i}]`
      if (item.kind !== 'string') return fields.fail(field, 'expected a string')
      checkStrings(src, item, 'BAD_REPLY', field)
      const name = decodeJsonString(src, item)
      if (name.length > MAX_CAPABILITY_NAME) fields.fail(field, `longer than ${MAX_CAPABILITY_NAME} characters`)
      return name
    })
  }
  for (const [key, name] of [['agents', 'agents'], ['max_agents', 'maxAgents']] as const) {
    if (fields.optional(key) === undefined) continue
    const value = fields.u64(key)
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) fields.fail(`PriceResponse.${key}`, 'larger than 2^53-1')
    answer[name] = Number(value)
  }
  return answer
}
