// SPEC §15 settlement on the wire: the `--settlement-url` checked once, where receipts are POSTed
// (`<url>/receipts`) and budgets asked (`<url>/budget/<agentId>`), the idempotency key, and the JSON
// body with its integers written exactly (u64 / i64 as JSON number digits, never through a double).
import { encodeReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { RunnerError } from '../errors.js'

/** The checked base URL (http or https, no credentials, query or fragment; trailing `/` dropped). */
export function parseSettlementUrl(text: string): URL {
  const refuse = (why: string): never => { throw new RunnerError('SETTLEMENT_URL_INVALID', `--settlement-url ${JSON.stringify(text)}: ${why}`) }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return refuse('not an absolute URL (e.g. http://127.0.0.1:8402/settle)')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(`scheme ${url.protocol.replace(/:$/, '')} is not http or https`)
  if (url.username !== '' || url.password !== '') refuse('credentials in the URL are not accepted (they would be logged)')
  if (url.search !== '' || url.hash !== '') refuse('a query or fragment cannot be extended with /receipts and /budget/<agentId>')
  url.pathname = url.pathname.replace(/\/+$/, '')
  return url
}

const under = (base: URL, path: string): URL => {
  const url = new URL(base.href)
  url.pathname = `${base.pathname}${path}`
  return url
}

/** Where receipts are POSTed. */
export const receiptsUrl = (base: URL): URL => under(base, '/receipts')

/** Where an agent's budget is asked (agent ids are file-name safe, SPEC §5; encoded anyway). */
export const budgetUrl = (base: URL, agentId: string): URL => under(base, `/budget/${encodeURIComponent(agentId)}`)

/** SPEC §15 `Idempotency-Key`. */
export const idempotencyKey = (r: Pick<PaymentReceipt, 'agentId' | 'epochStart' | 'epochEnd'>): string => `receipt:${r.agentId}:${r.epochStart}:${r.epochEnd}`

/** The POST body: the receipt's fields (integers exact) and the receipt's bytes as base64. */
export function receiptBody(r: PaymentReceipt): string {
  return `{"agentId":${JSON.stringify(r.agentId)},"nodeId":${JSON.stringify(r.nodeId)},` +
    `"epochStart":${r.epochStart},"epochEnd":${r.epochEnd},"costMicrocents":${r.costMicrocents},` +
    `"budgetAfter":${r.budgetAfter},"timestampNs":${r.timestampNs},` +
    `"receipt":${JSON.stringify(Buffer.from(encodeReceipt(r)).toString('base64'))}}`
}
