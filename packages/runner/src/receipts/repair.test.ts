// SPEC §15 conservation: the restart repair of the open receipt against its durable checkpoint.
import { receiptChainProblems, signReceipt, verifyReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { describe, expect, it } from 'vitest'
import { repairReceipts } from './repair.js'
import { seedSigner } from './test-signer.js'

const A = seedSigner()
const B = seedSigner(new Uint8Array(32).fill(7))
const T = 1_700_000_000_000_000_000n
const r = (signer = A, epochStart: bigint, epochEnd: bigint, cost: bigint, after: bigint): PaymentReceipt =>
  signReceipt({ agentId: 'survivor', nodeId: signer.nodeId, epochStart, epochEnd, costMicrocents: cost, budgetAfter: after, timestampNs: T }, (d) => signer.sign(d))

describe('repairReceipts', () => {
  it('leaves a consistent list and an empty one alone', () => {
    expect(repairReceipts([], { tick: 5n, budget: 10n }, A, T).action).toBe('none')
    const list = [r(A, 1n, 5n, 50n, 950n)]
    const out = repairReceipts(list, { tick: 5n, budget: 950n }, A, T)
    expect(out.action).toBe('consistent')
    expect(out.receipts).toEqual(list)
  })

  it('behind: the checkpoint charged more (killed between the two writes); recomputed, nothing lost', () => {
    const out = repairReceipts([r(A, 1n, 5n, 50n, 950n)], { tick: 9n, budget: 910n }, A, T + 1n)
    expect(out.action).toBe('behind')
    expect(out.receipts).toHaveLength(1)
    expect(out.receipts[0]).toMatchObject({ epochStart: 1n, epochEnd: 9n, costMicrocents: 90n, budgetAfter: 910n, timestampNs: T + 1n })
    expect(verifyReceipt(out.receipts[0] as PaymentReceipt).ok).toBe(true)
  })

  it('behind from the stay\'s empty start receipt', () => {
    const out = repairReceipts([r(B, 1n, 3n, 30n, 970n), r(A, 4n, 3n, 0n, 970n)], { tick: 6n, budget: 940n }, A, T)
    expect(out.action).toBe('behind')
    expect(out.receipts[1]).toMatchObject({ epochStart: 4n, epochEnd: 6n, costMicrocents: 30n, budgetAfter: 940n })
    expect(receiptChainProblems(out.receipts, 0n)).toEqual([])
  })

  it('ahead: an older checkpoint is durable; the receipt is cut back, never inventing cost', () => {
    const out = repairReceipts([r(A, 1n, 9n, 90n, 910n)], { tick: 5n, budget: 950n }, A, T)
    expect(out.action).toBe('ahead')
    expect(out.receipts[0]).toMatchObject({ epochStart: 1n, epochEnd: 5n, costMicrocents: 50n, budgetAfter: 950n })
  })

  it('ahead to the stay\'s start: an empty receipt again', () => {
    const out = repairReceipts([r(A, 1n, 9n, 90n, 910n)], { tick: 0n, budget: 1000n }, A, T)
    expect(out.receipts[0]).toMatchObject({ epochStart: 1n, epochEnd: 0n, costMicrocents: 0n, budgetAfter: 1000n })
  })

  it('another node\'s receipt behind the checkpoint: a receipt of this node for the rest', () => {
    const out = repairReceipts([r(B, 1n, 3n, 30n, 970n)], { tick: 6n, budget: 940n }, A, T)
    expect(out.action).toBe('caught-up')
    expect(out.receipts[1]).toMatchObject({ nodeId: A.nodeId, epochStart: 4n, epochEnd: 6n, costMicrocents: 30n, budgetAfter: 940n })
    expect(receiptChainProblems(out.receipts, 0n)).toEqual([])
  })

  it('unrepairable: cost without ticks, a budget above the stay\'s start, another node ahead', () => {
    expect(repairReceipts([r(A, 1n, 5n, 50n, 950n)], { tick: 0n, budget: 990n }, A, T).action).toBe('unrepairable')
    expect(repairReceipts([r(A, 1n, 5n, 50n, 950n)], { tick: 5n, budget: 1001n }, A, T).action).toBe('unrepairable')
    expect(repairReceipts([r(B, 1n, 5n, 50n, 950n)], { tick: 4n, budget: 960n }, A, T).action).toBe('unrepairable')
    const list = [r(B, 1n, 5n, 50n, 950n)]
    expect(repairReceipts(list, { tick: 4n, budget: 960n }, A, T).receipts).toEqual(list)
  })

  it('u64/i64 edges: ticks at 2^64−1, budgets at 2^63−1 and 2^53+1', () => {
    const max63 = 2n ** 63n - 1n
    const out = repairReceipts([r(A, 2n ** 64n - 3n, 2n ** 64n - 2n, 1n, max63 - 1n)], { tick: 2n ** 64n - 1n, budget: 2n ** 53n + 1n }, A, T)
    expect(out.receipts[0]).toMatchObject({ epochEnd: 2n ** 64n - 1n, costMicrocents: max63 - 2n ** 53n - 1n, budgetAfter: 2n ** 53n + 1n })
    expect(repairReceipts([r(A, 1n, 1n, 0n, 0n)], { tick: 1n, budget: 0n }, A, T).action).toBe('consistent')
  })
})
