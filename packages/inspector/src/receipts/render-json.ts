// SPEC §15 audit: the JSON form, the same facts as the text report. Like the
// checkpoint report (SPEC §8), 64-bit integers are exact decimal strings and
// counts plain numbers.
import { formatUnixNanos, toHex } from '../format.js'
import { memoText } from './render-text.js'
import type { ReceiptAudit } from './types.js'

/** One JSON object and a newline. */
export function renderReceiptAuditJson(audit: ReceiptAudit): string {
  const c = audit.conservation
  const json = {
    valid: audit.valid,
    agentId: audit.agentId,
    receipts: audit.receipts.map((r) => ({
      index: r.index,
      agentId: r.agentId,
      nodeId: r.nodeId,
      epochStart: r.epochStart.toString(),
      epochEnd: r.epochEnd.toString(),
      costMicrocents: r.costMicrocents.toString(),
      budgetAfter: r.budgetAfter.toString(),
      timestampNs: r.timestampNs.toString(),
      time: formatUnixNanos(r.timestampNs),
      signature: r.signature,
      signatureValid: r.signatureValid,
      signatureProblem: r.signatureProblem
    })),
    nodes: audit.nodes.map((n) => ({ nodeId: n.nodeId, receipts: n.receipts, costMicrocents: n.costMicrocents.toString() })),
    payments: audit.payments.map((p) => ({
      index: p.index,
      amount: p.amount.toString(),
      timestampNs: p.timestampNs.toString(),
      time: formatUnixNanos(p.timestampNs),
      recipient: p.recipient,
      memo: memoText(p.memo),
      memoHex: toHex(p.memo),
      agentPubKey: p.agentPubKey,
      signatureValid: p.signatureValid,
      signatureProblem: p.signatureProblem
    })),
    charged: audit.charged.toString(),
    paid: audit.paid.toString(),
    conservation: c === null
      ? null
      : {
          initialBudget: c.initialBudget.toString(),
          initialBudgetSource: c.initialBudgetSource,
          charged: c.charged.toString(),
          paid: c.paid.toString(),
          expectedBudget: c.expectedBudget.toString(),
          checkpointBudget: c.checkpointBudget === null ? null : c.checkpointBudget.toString(),
          ok: c.ok
        },
    checkpoint: audit.checkpoint === null
      ? null
      : {
          tickNumber: audit.checkpoint.tickNumber.toString(),
          budget: audit.checkpoint.budget.toString(),
          signatureValid: audit.checkpoint.signatureValid
        },
    problems: audit.problems
  }
  return `${JSON.stringify(json, null, 2)}\n`
}
