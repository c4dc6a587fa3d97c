// SPEC §15 receipts: the order checks a node runs on a package's Receipts and
// the audit runs offline (the audit's own tests cover the wording in context).
import { describe, expect, it } from 'vitest'
import { receiptChainProblems } from './index.js'
import type { PaymentReceipt } from './index.js'

const r = (epochStart: bigint, epochEnd: bigint, costMicrocents: bigint, budgetAfter: bigint, agentId = 'a'): PaymentReceipt => ({
  agentId, nodeId: 'n', epochStart, epochEnd, costMicrocents, budgetAfter, timestampNs: 0n, signature: new Uint8Array(64)
})

describe('receiptChainProblems', () => {
  it('a sound chain, an empty list and the reference empty receipt give no problems', () => {
    expect(receiptChainProblems([], 0n)).toEqual([])
    expect(receiptChainProblems([r(1n, 5n, 50n, 950n), r(6n, 5n, 0n, 950n), r(6n, 10n, 50n, 900n)], 0n)).toEqual([])
    // The budget fell 30 beyond the costs: fine when the agent paid at least that.
    expect(receiptChainProblems([r(1n, 5n, 50n, 950n), r(6n, 10n, 50n, 870n)], 30n)).toEqual([])
  })

  it('names overlap, backwards, a rising budget, a fall nothing explains, another agent, negative values', () => {
    expect(receiptChainProblems([r(1n, 5n, 50n, 950n), r(5n, 8n, 10n, 940n)], 0n)).toEqual(['receipt 1: ticks 5…8 overlap receipt 0 (ticks 1…5)'])
    expect(receiptChainProblems([r(6n, 10n, 50n, 950n), r(1n, 2n, 10n, 940n)], 0n)).toEqual(['receipt 1: ticks 1…2 go backwards from receipt 0 (ticks 6…10)'])
    expect(receiptChainProblems([r(3n, 1n, 5n, 950n)], 0n)).toEqual(['receipt 0: ticks 3…1 go backwards'])
    expect(receiptChainProblems([r(1n, 5n, 50n, 950n), r(6n, 10n, 50n, 960n)], 0n)).toEqual([
      'receipt 1: budget rose: receipt 0 left 950, this one charged 50 and left 960'
    ])
    expect(receiptChainProblems([r(1n, 5n, 50n, 950n), r(6n, 10n, 50n, 870n)], 29n)).toEqual([
      'receipts: the budget fell 30 more than the receipts charged between receipt 0 and receipt 1, but payments total 29'
    ])
    expect(receiptChainProblems([r(1n, 5n, -1n, -2n, 'b')], 0n)).toEqual(['receipt 0: negative cost -1', 'receipt 0: negative budget after -2'])
    expect(receiptChainProblems([r(1n, 5n, 0n, 9n), r(6n, 7n, 0n, 9n, 'b')], 0n)).toEqual(['receipt 1: agent "b", but receipt 0 is for "a"'])
  })
})
