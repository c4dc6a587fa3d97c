// SPEC §15 `wallet_pay` on a running node: every payment the agent made, and conservation at every
// crash point (initial budget − Σ receipt costs − Σ payments = the checkpoint's budget).
//
// A payment is durable before the agent sees its receipt: the node deducts it from the live budget
// and rewrites the sidecar `<id>.payments.pending` (every payment since the last durable checkpoint,
// with that checkpoint's tick and budget) before `wallet_pay` returns. At the next checkpoint: the
// checkpoint (its budget holds them) → `.payments` gets them → the receipts are re-signed (their
// cost leaves payments out) → the sidecar goes. A restart (`openPayments`) at the durable checkpoint
// (tick, budget) reads the sidecar:
// - the checkpoint is still the one the payments came after (same tick and budget): they are not in
//   its budget, but they happened (the recipient may hold the receipt), so the restart takes them off
//   (`cut`) and the loader writes the restart checkpoint with that budget;
// - any later checkpoint holds them.
// Either way they are put in `.payments` once (by the count it held, `base`) and passed to the
// receipt repair as payments, not cost. The sidecar goes once the receipts were begun (`settle`); a
// crash before that finds a checkpoint that no longer matches (tick, budget), so nothing is cut twice.
import type { Logger } from '@igor/sandbox'
import { decodePayments, encodePaymentsBlob, paymentAmount } from './codec.js'
import { writeFileAtomic } from '../store/atomic-write.js'
import { deletePendingFile, readPaymentsFile, readPendingFile, writePaymentsFile, writePendingFile } from './files.js'

/** A durable checkpoint's tick and budget. */
export interface DurablePoint {
  readonly tick: bigint
  readonly budget: bigint
}

export class PaymentLog {
  private pending: Uint8Array[] = []
  private pendingFrom: DurablePoint | null = null
  private sidecar = false

  constructor(private readonly dir: string, private readonly agentId: string, private committed: Uint8Array[], sidecar = false) {
    this.sidecar = sidecar
  }

  /**
   * A payment the node just made after the durable checkpoint `from`: written to the sidecar before
   * this resolves (the caller answers the agent only then). On a failed write the payment is
   * forgotten and the error thrown (the caller undoes the deduction; the receipt never leaves).
   */
  async record(receipt: Uint8Array, from: DurablePoint): Promise<void> {
    const fromPoint = this.pendingFrom ?? from
    this.pending.push(receipt)
    try {
      await writePendingFile(this.dir, this.agentId, { fromTick: fromPoint.tick, fromBudget: fromPoint.budget, base: this.committed.length, receipts: this.pending })
    } catch (error) {
      this.pending.pop()
      throw error
    }
    this.pendingFrom = fromPoint
    this.sidecar = true
  }

  /** Every payment, logged or still pending (for `Package.Payments`), as a `payments` blob. */
  blob(): Uint8Array {
    return encodePaymentsBlob([...this.committed, ...this.pending])
  }

  get count(): number {
    return this.committed.length + this.pending.length
  }

  /** Σ amounts of the payments not yet in `.payments`. */
  pendingTotal(): bigint {
    return this.pending.reduce((sum, r) => sum + paymentAmount(r), 0n)
  }

  /** After a checkpoint holding them is durable: `.payments` gets them. Returns their sum (for the receipt). */
  async commit(): Promise<bigint> {
    if (this.pending.length === 0) return 0n
    const paid = this.pendingTotal()
    const next = [...this.committed, ...this.pending]
    await writePaymentsFile(this.dir, this.agentId, next)
    this.committed = next
    this.pending = []
    this.pendingFrom = null
    return paid
  }

  /** After the receipts were written: the sidecar goes (when nothing is pending). */
  async settle(): Promise<void> {
    if (!this.sidecar || this.pending.length > 0) return
    await deletePendingFile(this.dir, this.agentId)
    this.sidecar = false
  }
}

/**
 * Opens the log of an agent that restarts at the durable checkpoint `at`
 * (see the file comment). `cut`: what the restart must take off the
 * checkpoint's budget; `unreflected`: the payments the receipts may not hold
 * yet (the receipt repair leaves them out of the cost). A `.payments` that
 * does not decode is kept as `.payments.corrupt` and logged.
 */
export async function openPayments(dir: string, agentId: string, at: DurablePoint, log: Logger): Promise<{ payments: PaymentLog, unreflected: bigint, cut: bigint }> {
  const bytes = await readPaymentsFile(dir, agentId)
  let committed: Uint8Array[] = []
  if (bytes !== null) {
    try {
      committed = decodePayments(bytes)
    } catch (error) {
      await writeFileAtomic(dir, `${agentId}.payments.corrupt`, bytes)
      log.error({ agentId }, `payments file does not decode (${(error as Error).message}); kept as ${agentId}.payments.corrupt`)
    }
  }
  let pending
  try {
    pending = await readPendingFile(dir, agentId)
  } catch (error) {
    log.error({ agentId }, `payments sidecar does not decode (${(error as Error).message}); dropped`)
    await deletePendingFile(dir, agentId)
    pending = null
  }
  if (pending === null || pending.receipts.length === 0) return { payments: new PaymentLog(dir, agentId, committed, pending !== null), unreflected: 0n, cut: 0n }
  const sum = pending.receipts.reduce((total, r) => total + paymentAmount(r), 0n)
  if (committed.length === pending.base) {
    committed = [...committed, ...pending.receipts]
    await writePaymentsFile(dir, agentId, committed)
  } else if (committed.length !== pending.base + pending.receipts.length) {
    log.error({ agentId }, `payments file holds ${committed.length} payments, the sidecar says ${pending.base} + ${pending.receipts.length}; left as it is`)
  }
  const held = !(at.tick === pending.fromTick && at.budget === pending.fromBudget)
  if (!held) {
    log.warn({ agentId, payments: pending.receipts.length, paid: sum.toString() },
      `payments made after the checkpoint of tick ${at.tick} are not in its budget; taken off it (${sum})`)
  }
  return { payments: new PaymentLog(dir, agentId, committed, true), unreflected: sum, cut: held ? 0n : sum }
}

/** An arrival's verified payments (or none), written before the agent is admitted. */
export async function beginPayments(dir: string, agentId: string, receipts: readonly Uint8Array[]): Promise<PaymentLog> {
  // A file left by an older copy of the agent here is replaced: the package's list is the agent's now.
  if (receipts.length > 0 || await readPaymentsFile(dir, agentId) !== null) await writePaymentsFile(dir, agentId, receipts)
  return new PaymentLog(dir, agentId, [...receipts])
}
