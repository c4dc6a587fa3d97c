// SPEC §15 audit (ours): anyone holding an agent's files proves offline which
// node charged what for which ticks, and that nothing was charged twice or lost.
import {
  decodeCheckpoint, decodePayments, decodeReceipts, receiptChainProblems, verifyCheckpointSignature, verifyReceipt,
  verifyWalletPayReceipt
} from '@igor/checkpoint-codec'
import type { Checkpoint, PaymentReceipt, WalletPayReceipt } from '@igor/checkpoint-codec'
import { toHex } from '../format.js'
import { decodeInput } from './input-error.js'
import type {
  AuditedPayment, AuditedReceipt, ConservationCheck, NodeTotal, ReceiptAudit, ReceiptAuditInput
} from './types.js'

/**
 * Decodes the blobs (an `AuditInputError` naming the input for bytes that do
 * not decode, with the codec's `ReceiptError`/`CheckpointError` as its cause) and audits them: every
 * signature, the tick ranges, the budget from receipt to receipt, the cost per
 * node and conservation against the checkpoint. Problems are lines in the
 * report, never exceptions.
 */
export function auditReceipts(input: ReceiptAuditInput): ReceiptAudit {
  const receipts = decodeInput('receipts', () => decodeReceipts(input.receipts))
  const payments = input.payments === undefined ? [] : decodeInput('payments', () => decodePayments(input.payments as Uint8Array))
  const checkpoint = decodeInput('checkpoint', () => readCheckpoint(input.checkpoint))
  const problems: string[] = []

  if (checkpoint?.signatureValid === false) problems.push('checkpoint: INVALID signature')

  const audited = receipts.map((r, index): AuditedReceipt => {
    const check = verifyReceipt(r)
    if (!check.ok) problems.push(`receipt ${index} (ticks ${r.epochStart}…${r.epochEnd}): ${check.reason}`)
    return { index, ...r, signature: toHex(r.signature), signatureValid: check.ok, signatureProblem: check.ok ? null : check.reason }
  })
  const charged = receipts.reduce((sum, r) => sum + r.costMicrocents, 0n)
  const paid = payments.reduce((sum, p) => sum + p.amount, 0n)
  problems.push(...receiptChainProblems(receipts, paid))

  const last = receipts.at(-1)
  if (checkpoint !== null && last !== undefined && last.epochEnd > checkpoint.value.tickNumber) {
    problems.push(`receipt ${receipts.length - 1}: ticks up to ${last.epochEnd}, past the checkpoint's tick ${checkpoint.value.tickNumber}`)
  }

  const agentKey = checkpoint?.value.lineage?.agentPubKey ?? payments[0]?.agentPubKey
  const auditedPayments = payments.map((p, index): AuditedPayment => {
    if (p.amount <= 0n) problems.push(`payment ${index}: amount ${p.amount} is not positive`)
    const check = verifyWalletPayReceipt(p, agentKey)
    if (!check.ok) problems.push(`payment ${index} (${p.amount} to ${JSON.stringify(p.recipient)}): ${check.reason}`)
    return {
      index, amount: p.amount, timestampNs: p.timestampNs, recipient: p.recipient, memo: p.memo,
      agentPubKey: toHex(p.agentPubKey), signatureValid: check.ok, signatureProblem: check.ok ? null : check.reason
    }
  })

  const conservation = conserve(receipts, payments, charged, paid, input.initialBudget, checkpoint?.value.budget ?? null)
  if (conservation?.ok === false) {
    problems.push(
      `conservation: initial budget ${conservation.initialBudget} − charged ${charged} − paid ${paid} = ${conservation.expectedBudget}, ` +
      `but the checkpoint's budget is ${conservation.checkpointBudget}`
    )
  }

  return {
    valid: problems.length === 0,
    agentId: receipts[0]?.agentId ?? null,
    receipts: audited,
    payments: auditedPayments,
    nodes: perNode(receipts),
    charged,
    paid,
    conservation,
    checkpoint: checkpoint === null
      ? null
      : { tickNumber: checkpoint.value.tickNumber, budget: checkpoint.value.budget, signatureValid: checkpoint.signatureValid },
    problems
  }
}

function readCheckpoint(input: Checkpoint | Uint8Array | undefined): { value: Checkpoint, signatureValid: boolean | null } | null {
  if (input === undefined) return null
  if (!(input instanceof Uint8Array)) return { value: input, signatureValid: null }
  const value = decodeCheckpoint(input)
  // Only a v0x04 checkpoint is signed; a decoded one given as an object cannot be checked here.
  return { value, signatureValid: value.version === 4 ? verifyCheckpointSignature(input) : null }
}

function perNode(receipts: readonly PaymentReceipt[]): NodeTotal[] {
  const totals = new Map<string, { receipts: number, costMicrocents: bigint }>()
  for (const r of receipts) {
    const total = totals.get(r.nodeId) ?? { receipts: 0, costMicrocents: 0n }
    totals.set(r.nodeId, { receipts: total.receipts + 1, costMicrocents: total.costMicrocents + r.costMicrocents })
  }
  return [...totals].map(([nodeId, total]) => ({ nodeId, ...total }))
}

/**
 * The initial budget is the caller's, or derived from the first receipt: what
 * it left plus what it charged plus what the agent paid before it was signed
 * (payments timestamped at or before it: both times come from the clock of the
 * node the agent was on). Without receipts and without a given budget there is
 * nothing to check.
 */
function conserve(
  receipts: readonly PaymentReceipt[], payments: readonly WalletPayReceipt[], charged: bigint, paid: bigint,
  given: bigint | undefined, checkpointBudget: bigint | null
): ConservationCheck | null {
  const first = receipts[0]
  let initialBudget: bigint
  let initialBudgetSource: ConservationCheck['initialBudgetSource']
  if (given !== undefined) {
    initialBudget = given
    initialBudgetSource = 'given'
  } else if (first !== undefined) {
    const paidBefore = payments.filter((p) => p.timestampNs <= first.timestampNs).reduce((sum, p) => sum + p.amount, 0n)
    initialBudget = first.budgetAfter + first.costMicrocents + paidBefore
    initialBudgetSource = 'first receipt'
  } else {
    return null
  }
  const expectedBudget = initialBudget - charged - paid
  return {
    initialBudget, initialBudgetSource, charged, paid, expectedBudget, checkpointBudget,
    ok: checkpointBudget === null ? null : expectedBudget === checkpointBudget
  }
}
