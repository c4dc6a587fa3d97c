// SPEC §15 conservation at every crash point: the receipts file is written AFTER the checkpoint, so a
// restart can find the last receipt behind its checkpoint (killed between the two writes) or, when an
// older checkpoint was put back, ahead of it. The stay's open receipt is always the last one and holds
// the stay's start (tick `epochStart − 1`, budget `budgetAfter + cost`), so the restart recomputes it
// from the durable checkpoint: it never invents cost and never drops any the checkpoint shows.
// `wallet_pay` payments the checkpoint holds but the receipt does not yet (the payments sidecar, see
// payments/log.ts) are left out of the cost: the receipt's cost is compute only.
import { signReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import type { ChargePoint, ReceiptSigner } from './types.js'

export type RepairAction = 'none' | 'consistent' | 'behind' | 'ahead' | 'caught-up' | 'unrepairable'

export interface RepairResult {
  readonly receipts: PaymentReceipt[]
  readonly action: RepairAction
  /** One line for the log when something was changed or could not be. */
  readonly detail: string | null
}

/** True for the reference's empty receipt (`last+1…last`, cost 0): a stay that has not charged yet. */
export const isEmptyReceipt = (r: PaymentReceipt): boolean => r.epochStart === r.epochEnd + 1n && r.costMicrocents === 0n

/**
 * Makes the last receipt end exactly at the durable checkpoint `at`:
 * - the last one is this node's (the open receipt of the stay the checkpoint
 *   belongs to): re-signed as `epochStart…at.tick`, cost = its start budget −
 *   `at.budget` (behind: more cost; ahead: less), when that is a sound receipt;
 * - another node's receipt behind the checkpoint: a receipt of this node for
 *   the ticks after it (`caught-up`);
 * - anything else is left as it is (`unrepairable`, logged; the audit shows it).
 */
export function repairReceipts(list: readonly PaymentReceipt[], at: ChargePoint, signer: ReceiptSigner, nowNs: bigint, unreflectedPaid = 0n): RepairResult {
  const receipts = [...list]
  const last = receipts.at(-1)
  if (last === undefined) return { receipts, action: 'none', detail: null }
  if (last.epochEnd === at.tick && last.budgetAfter === at.budget) return { receipts, action: 'consistent', detail: null }
  const where = `receipt ticks ${last.epochStart}…${last.epochEnd} left ${last.budgetAfter}, checkpoint tick ${at.tick} budget ${at.budget}`
  if (last.nodeId === signer.nodeId) {
    const startTick = last.epochStart - 1n
    // SPEC §15 wallet_pay: what the budget lost to payments the receipt does not hold yet is not cost.
    const startBudget = last.budgetAfter + last.costMicrocents - unreflectedPaid
    const sound = at.tick >= startTick && at.budget <= startBudget && (at.tick > startTick || at.budget === startBudget)
    if (sound) {
      const action: RepairAction = at.budget < last.budgetAfter || at.tick > last.epochEnd ? 'behind' : 'ahead'
      receipts[receipts.length - 1] = signReceipt({
        agentId: last.agentId,
        nodeId: signer.nodeId,
        epochStart: last.epochStart,
        epochEnd: at.tick,
        costMicrocents: startBudget - at.budget,
        budgetAfter: at.budget,
        timestampNs: nowNs
      }, (data) => signer.sign(data))
      return { receipts, action, detail: `open receipt ${action} its checkpoint (${where}); recomputed from the checkpoint` }
    }
  } else if (at.tick > last.epochEnd && at.budget + unreflectedPaid <= last.budgetAfter) {
    receipts.push(signReceipt({
      agentId: last.agentId,
      nodeId: signer.nodeId,
      epochStart: last.epochEnd + 1n,
      epochEnd: at.tick,
      costMicrocents: last.budgetAfter - unreflectedPaid - at.budget,
      budgetAfter: at.budget,
      timestampNs: nowNs
    }, (data) => signer.sign(data)))
    return { receipts, action: 'caught-up', detail: `another node's last receipt is behind the checkpoint (${where}); a receipt for the ticks after it added` }
  }
  return { receipts, action: 'unrepairable', detail: `receipts and checkpoint disagree and cannot be repaired without inventing cost (${where}); left as they are` }
}
