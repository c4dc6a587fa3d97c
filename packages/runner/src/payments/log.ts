// SPEC §15 `wallet_pay` on a running node: every payment the agent made, and conservation at every
// crash point (initial budget − Σ receipt costs − Σ payments = the checkpoint's budget).
//
// A payment is deducted from the live budget at once and kept pending until the next checkpoint.
// At a checkpoint: (1) the pending payments go to the sidecar `<id>.payments.pending` with the
// checkpoint's tick and the count `.payments` held (before the checkpoint is written); (2) the
// checkpoint is written; (3) `.payments` gets them; (4) the receipts file is re-signed (its cost
// leaves the payments out); (5) the sidecar goes. A restart (`openPayments`) reads the sidecar: a
// checkpoint at its tick or later holds those payments, so they are put in `.payments` if they are not
// yet, and their sum is what the receipts may not yet reflect; an older checkpoint does not hold
// them (the ticks that made them run again), so they are dropped. The sidecar goes once the receipts
// were begun (`settle`).
import type { Logger } from '@igor/sandbox'
import { decodePayments, encodeFramedListBytes, paymentAmount } from './codec.js'
import { writeFileAtomic } from '../store/atomic-write.js'
import { deletePendingFile, readPaymentsFile, readPendingFile, writePaymentsFile, writePendingFile } from './files.js'

export class PaymentLog {
  private pending: Uint8Array[] = []
  private sidecar = false

  constructor(private readonly dir: string, private readonly agentId: string, private committed: Uint8Array[], sidecar = false) {
    this.sidecar = sidecar
  }

  /** A payment the node just made (the budget was lowered by `paymentAmount(receipt)`). */
  add(receipt: Uint8Array): void {
    this.pending.push(receipt)
  }

  /** Every payment, made and logged or still pending (for `Package.Payments`), as a `payments` blob. */
  blob(): Uint8Array {
    return encodeFramedListBytes([...this.committed, ...this.pending])
  }

  get count(): number {
    return this.committed.length + this.pending.length
  }

  /** Σ amounts of the payments not yet logged. */
  pendingTotal(): bigint {
    return this.pending.reduce((sum, r) => sum + paymentAmount(r), 0n)
  }

  /** Step 1, before the checkpoint at `tick` is written: the sidecar, when there is anything pending. */
  async prepare(tick: bigint): Promise<void> {
    if (this.pending.length === 0) return
    await writePendingFile(this.dir, this.agentId, { tick, base: this.committed.length, receipts: this.pending })
    this.sidecar = true
  }

  /** Step 3, after the checkpoint is durable: `.payments` holds them. Returns their sum (for the receipt). */
  async commit(): Promise<bigint> {
    if (this.pending.length === 0) return 0n
    const paid = this.pendingTotal()
    const next = [...this.committed, ...this.pending]
    await writePaymentsFile(this.dir, this.agentId, next)
    this.committed = next
    this.pending = []
    return paid
  }

  /** Step 5, after the receipts were written: the sidecar goes. */
  async settle(): Promise<void> {
    if (!this.sidecar) return
    await deletePendingFile(this.dir, this.agentId)
    this.sidecar = false
  }
}

/**
 * Opens the log of an agent that restarts at the durable checkpoint of `tick`
 * (see the file comment). `unreflected` is the sum of the payments that
 * checkpoint holds but the receipts may not yet (the receipt repair leaves
 * them out of the cost). A `.payments` that does not decode is kept as
 * `.payments.corrupt` and logged; the list starts empty.
 */
export async function openPayments(dir: string, agentId: string, tick: bigint, log: Logger): Promise<{ payments: PaymentLog, unreflected: bigint }> {
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
  if (pending === null) return { payments: new PaymentLog(dir, agentId, committed), unreflected: 0n }
  const sum = pending.receipts.reduce((total, r) => total + paymentAmount(r), 0n)
  if (tick < pending.tick) {
    // The checkpoint was not written: those payments are not in its budget; the ticks that made them run again.
    log.warn({ agentId, tick: tick.toString(), payments: pending.receipts.length }, `payments of tick ${pending.tick} are not in the checkpoint (tick ${tick}); dropped`)
    await deletePendingFile(dir, agentId)
    return { payments: new PaymentLog(dir, agentId, committed), unreflected: 0n }
  }
  if (committed.length === pending.base) {
    committed = [...committed, ...pending.receipts]
    await writePaymentsFile(dir, agentId, committed)
    log.warn({ agentId, payments: pending.receipts.length }, 'payments the checkpoint holds were missing from the payments file; added')
  } else if (committed.length !== pending.base + pending.receipts.length) {
    log.error({ agentId }, `payments file holds ${committed.length} payments, the sidecar says ${pending.base} + ${pending.receipts.length}; left as it is`)
  }
  return { payments: new PaymentLog(dir, agentId, committed, true), unreflected: sum }
}

/** An arrival's verified payments (or none), written before the agent is admitted. */
export async function beginPayments(dir: string, agentId: string, receipts: readonly Uint8Array[]): Promise<PaymentLog> {
  // A file left by an older copy of the agent here is replaced: the package's list is the agent's now.
  if (receipts.length > 0 || await readPaymentsFile(dir, agentId) !== null) await writePaymentsFile(dir, agentId, receipts)
  return new PaymentLog(dir, agentId, [...receipts])
}
