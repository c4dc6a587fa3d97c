// SPEC §15 migration: `Package.Receipts` checked on arrival, before anything is written. The list is
// decoded bounded, every signature verified against its signer's peer id, the chain checked (one agent,
// ticks forward without overlap, the budget never rising), and its last `budgetAfter` must cover the
// package's budget; the last receipt may not reach past the checkpoint's tick. Refused with the first
// problem as a one-line reason (`RECEIPTS_INVALID`).
import { ReceiptError, receiptChainProblems, verifyReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { RunnerError } from '../errors.js'
import { decodeReceiptsFile } from './files.js'

/** The arriving agent's receipts (empty when the package carried none), or `RunnerError('RECEIPTS_INVALID')`. */
export function checkArrivalReceipts(agentId: string, blob: Uint8Array | undefined, checkpoint: { budget: bigint, tickNumber: bigint }): PaymentReceipt[] {
  if (blob === undefined || blob.byteLength === 0) return []
  const refuse = (reason: string): never => {
    throw new RunnerError('RECEIPTS_INVALID', `Package.Receipts of ${agentId}: ${reason}`)
  }
  let list: PaymentReceipt[] = []
  try {
    list = decodeReceiptsFile(blob)
  } catch (error) {
    if (error instanceof ReceiptError) refuse(error.message)
    throw error
  }
  for (const [index, r] of list.entries()) {
    if (r.agentId !== agentId) refuse(`receipt ${index} is for agent ${JSON.stringify(r.agentId)}`)
    const check = verifyReceipt(r)
    if (!check.ok) refuse(`receipt ${index} (ticks ${r.epochStart}…${r.epochEnd}): ${check.reason}`)
  }
  const problems = receiptChainProblems(list, 0n)
  if (problems.length > 0) refuse(problems[0] as string)
  const last = list.at(-1)
  if (last !== undefined) {
    if (last.budgetAfter < checkpoint.budget) refuse(`the last receipt leaves ${last.budgetAfter}, below the package's budget ${checkpoint.budget}`)
    if (last.epochEnd > checkpoint.tickNumber) refuse(`the last receipt reaches tick ${last.epochEnd}, past the checkpoint's tick ${checkpoint.tickNumber}`)
  }
  return list
}
