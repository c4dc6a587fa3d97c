// SPEC §15 audit: the text report, ending in the one verdict line
// `Receipts: VALID (<n> receipts from <k> nodes, charged <x>, paid <y>)` or
// `Receipts: INVALID` and one `  - <problem>` line per problem.
import { formatUnixNanos, toHex } from '../format.js'
import type { AuditedPayment, AuditedReceipt, ConservationCheck, ReceiptAudit } from './types.js'

const LABEL_WIDTH = 18
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function line(label: string, value: string): string {
  return `${`${label}:`.padEnd(LABEL_WIDTH)}${value}`
}

const verdict = (ok: boolean): string => (ok ? 'VALID' : 'INVALID')

function receiptLine(r: AuditedReceipt): string {
  return `  [${r.index}] ticks ${r.epochStart}→${r.epochEnd}  cost ${r.costMicrocents}  budget after ${r.budgetAfter}` +
    `  at ${formatUnixNanos(r.timestampNs)}  node ${r.nodeId}  signature ${verdict(r.signatureValid)}`
}

/** A memo as JSON text when it is UTF-8, else hex. */
export function memoText(memo: Uint8Array): string | null {
  try {
    return strictUtf8.decode(memo)
  } catch {
    return null
  }
}

function paymentLine(p: AuditedPayment): string {
  const text = memoText(p.memo)
  const memo = text === null ? `memo 0x${toHex(p.memo)}` : `memo ${JSON.stringify(text)}`
  return `  [${p.index}] ${p.amount} to ${JSON.stringify(p.recipient)}  ${memo}  at ${formatUnixNanos(p.timestampNs)}` +
    `  signature ${verdict(p.signatureValid)}`
}

function conservationLine(c: ConservationCheck | null): string {
  if (c === null) return 'not checked (no receipts and no initial budget)'
  const from = c.initialBudgetSource === 'given' ? 'given' : 'from the first receipt'
  const sum = `${c.initialBudget} initial (${from}) − ${c.charged} charged − ${c.paid} paid = ${c.expectedBudget}`
  if (c.checkpointBudget === null) return `${sum}; not checked (no checkpoint)`
  return `${sum}; checkpoint budget ${c.checkpointBudget}: ${c.ok === true ? 'OK' : 'MISMATCH'}`
}

/** The verdict line alone. */
export function receiptVerdictLine(audit: ReceiptAudit): string {
  if (!audit.valid) return 'Receipts: INVALID'
  return `Receipts: VALID (${audit.receipts.length} receipts from ${audit.nodes.length} nodes, charged ${audit.charged}, paid ${audit.paid})`
}

/** The whole text report (amounts in microcents, times RFC 3339 UTC), ending with a newline. */
export function renderReceiptAuditText(audit: ReceiptAudit): string {
  const title = 'Receipt Audit'
  const lines = [title, '='.repeat(title.length), '']
  lines.push(line('Agent', audit.agentId ?? '(no receipts)'))
  if (audit.checkpoint !== null) {
    const signature = audit.checkpoint.signatureValid === null ? '' : `, signature ${verdict(audit.checkpoint.signatureValid)}`
    lines.push(line('Checkpoint', `tick ${audit.checkpoint.tickNumber}, budget ${audit.checkpoint.budget}${signature}`))
  }
  lines.push(line('Receipts', String(audit.receipts.length)))
  for (const r of audit.receipts) lines.push(receiptLine(r))
  lines.push(line('Nodes', String(audit.nodes.length)))
  for (const n of audit.nodes) lines.push(`  ${n.nodeId}  ${n.receipts} receipts  charged ${n.costMicrocents}`)
  lines.push(line('Payments', String(audit.payments.length)))
  for (const p of audit.payments) lines.push(paymentLine(p))
  lines.push(line('Charged', `${audit.charged} microcents`))
  lines.push(line('Paid', `${audit.paid} microcents`))
  lines.push(line('Conservation', conservationLine(audit.conservation)))
  lines.push('', receiptVerdictLine(audit))
  for (const problem of audit.problems) lines.push(`  - ${problem}`)
  return `${lines.join('\n')}\n`
}
