// SPEC §15 receipts: the order of an agent's receipts, for the audit and for
// a node checking a package's `Receipts`. Tick ranges go forward and never
// overlap; the budget never rises from one receipt to the next, and what it
// fell beyond the receipts' costs is at most what the agent paid.
import type { PaymentReceipt } from './receipts.js'

const ticks = (r: PaymentReceipt): string => `ticks ${r.epochStart}…${r.epochEnd}`

/**
 * One line per problem of each receipt on its own and against the ones before
 * it (signatures are not checked here: `verifyReceipt`). `paid` is the total of
 * the agent's `wallet_pay` amounts. An empty list, or a sound one, gives `[]`.
 */
export function receiptChainProblems(receipts: readonly PaymentReceipt[], paid: bigint): string[] {
  const problems: string[] = []
  const first = receipts[0]
  let furthest: { index: number, receipt: PaymentReceipt } | null = null
  let fell = 0n
  for (const [index, r] of receipts.entries()) {
    if (first !== undefined && r.agentId !== first.agentId) {
      problems.push(`receipt ${index}: agent ${JSON.stringify(r.agentId)}, but receipt 0 is for ${JSON.stringify(first.agentId)}`)
    }
    // The reference signs a receipt at every checkpoint, so one without ticks since the
    // last is `last+1…last` charging nothing: accepted as empty, anything else backwards is not.
    const empty = r.epochStart === r.epochEnd + 1n && r.costMicrocents === 0n
    if (r.epochStart > r.epochEnd && !empty) problems.push(`receipt ${index}: ${ticks(r)} go backwards`)
    if (r.costMicrocents < 0n) problems.push(`receipt ${index}: negative cost ${r.costMicrocents}`)
    if (r.budgetAfter < 0n) problems.push(`receipt ${index}: negative budget after ${r.budgetAfter}`)
    if (furthest !== null && r.epochStart <= furthest.receipt.epochEnd) {
      const how = r.epochEnd < furthest.receipt.epochStart ? 'go backwards from' : 'overlap'
      problems.push(`receipt ${index}: ${ticks(r)} ${how} receipt ${furthest.index} (${ticks(furthest.receipt)})`)
    }
    if (furthest === null || r.epochEnd > furthest.receipt.epochEnd) furthest = { index, receipt: r }
    const prev = receipts[index - 1]
    if (prev !== undefined) {
      // Budget before this receipt's ticks = prev.budgetAfter − payments in between.
      const gap = prev.budgetAfter - r.costMicrocents - r.budgetAfter
      if (gap < 0n) {
        problems.push(`receipt ${index}: budget rose: receipt ${index - 1} left ${prev.budgetAfter}, this one charged ${r.costMicrocents} and left ${r.budgetAfter}`)
      } else {
        fell += gap
      }
    }
  }
  if (fell > paid) {
    problems.push(`receipts: the budget fell ${fell} more than the receipts charged between receipt 0 and receipt ${receipts.length - 1}, but payments total ${paid}`)
  }
  return problems
}
