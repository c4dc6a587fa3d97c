// SPEC §15 "one open receipt per stay": while an agent stays on this node there is one open receipt,
// `epochStart` = the first tick after the stay began, re-signed after each checkpoint that charged
// something; it is sealed when the agent leaves (hand-off, export), when it has been open
// `--receipt-span`, and on a restart. The list (sealed ones, then the open one) is written atomically
// AFTER its checkpoint; `repair.ts` says how a restart reconciles the two files.
// Issue 21 (CPU per agent): a periodic checkpoint that only moved the open receipt re-signs it in memory
// and rewrites the file at most every `writeEveryNs` (default 60 s). The file is then behind its
// checkpoint, a crash state the restart already repairs from the durable checkpoint (SPEC §15: "a
// restart repairs a receipt that ran ahead of or behind its checkpoint; it never invents cost"). Every
// other change — a stay's start, a seal, a checkpoint with payments, leaving, shutdown, `flush` — is
// written before the call returns, exactly as before.
import { encodeReceipts, signReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import type { Logger } from '@igor/sandbox'
import { writeReceiptsFile } from './files.js'
import { isEmptyReceipt, repairReceipts } from './repair.js'
import type { RepairAction } from './repair.js'
import type { ChargePoint, ReceiptSigner } from './types.js'

export interface ReceiptBookOptions {
  readonly dir: string
  readonly agentId: string
  readonly signer: ReceiptSigner
  /** `--receipt-span` in ns. */
  readonly spanNs: bigint
  /** Wall-clock Unix ns (the receipts' timestamps). */
  readonly nowNs: () => bigint
  readonly log: Logger
  /** Called with the new blob whenever the list changed (e.g. for `wallet_receipt`). */
  readonly onChange?: (blob: Uint8Array) => void
  /**
   * How long a periodic checkpoint may leave the file behind the open receipt
   * (see the file comment); 0n: written at every checkpoint. Default
   * `DEFAULT_RECEIPTS_WRITE_EVERY_NS`.
   */
  readonly writeEveryNs?: bigint
  /**
   * SPEC §15 settlement: told (never awaited) after each write about this
   * node's receipts that are new since the last write — sealed ones (at a
   * stay's start: every sealed one in the list, the adapter skips what it
   * delivered) and the open one when it was re-signed. Must not throw.
   */
  readonly settle?: (receipt: PaymentReceipt, info: { sealed: boolean }) => void
}

/** Issue 21: a periodic checkpoint rewrites the receipts file at most this often (60 s). */
export const DEFAULT_RECEIPTS_WRITE_EVERY_NS = 60_000_000_000n

/** One agent's receipts on this node (see the file comment). Every method runs under the agent's mutex. */
export class ReceiptBook {
  private sealed: PaymentReceipt[]
  private open: PaymentReceipt
  /**
   * SPEC §15 wallet_pay: what the open receipt's ticks paid out (logged payments). The receipt's cost is
   * compute only, so the budget at the stay's start = budgetAfter + cost + openPaid.
   */
  private openPaid = 0n
  /** The budget when the open receipt's stay (or span) began. */
  private openStart: bigint
  private openedAtNs: bigint
  private warnedUnsigned = false
  /** The list as of the last change (the same array until it changes, so the sandbox sends it only then). */
  private current: Uint8Array = new Uint8Array(0)
  /** When the file was last written (`nowNs`), and whether the list changed since. */
  private writtenAtNs: bigint | null = null
  private dirty = false
  /** Sealed receipts already told to `settle`, and the open one last told. */
  private settledSealed = 0
  private settledOpen: PaymentReceipt | null = null

  private constructor(private readonly options: ReceiptBookOptions, sealed: PaymentReceipt[], at: ChargePoint) {
    this.sealed = sealed
    this.openedAtNs = options.nowNs()
    this.open = this.emptyAt(at)
    this.openStart = at.budget
  }

  /**
   * Begins a stay at the durable checkpoint `at`: `prior` (the file on disk
   * for a restart, the package's list for an arrival, none for a new agent) is
   * repaired against `at`, its last receipt sealed, and an empty open receipt
   * (`at.tick+1…at.tick`, cost 0: the stay's start, durable before the first
   * tick) is appended. The file is written before this resolves.
   */
  static async begin(options: ReceiptBookOptions, prior: readonly PaymentReceipt[], at: ChargePoint, repair = true, unreflectedPaid = 0n): Promise<{ book: ReceiptBook, repair: RepairAction }> {
    const repaired = repair ? repairReceipts(prior, at, options.signer, options.nowNs(), unreflectedPaid) : { receipts: [...prior], action: 'none' as const, detail: null }
    if (repaired.detail !== null) {
      const fields = { agentId: options.agentId, repair: repaired.action }
      if (repaired.action === 'unrepairable') options.log.error(fields, repaired.detail)
      else options.log.warn(fields, repaired.detail)
    }
    // A restart seals the open receipt; one that never charged was only a stay's start and goes.
    const sealed = repaired.receipts.filter((r, index) => !(index === repaired.receipts.length - 1 && r.nodeId === options.signer.nodeId && isEmptyReceipt(r)))
    const book = new ReceiptBook(options, sealed, at)
    await book.write()
    return { book, repair: repaired.action }
  }

  /** The stay's first tick − 1: a charge with no tick after it cannot be put in a receipt yet. */
  get stayStartTick(): bigint {
    return this.open.epochStart - 1n
  }

  /** True when a charge at `tick` fits a receipt: the stay has run a tick since it began (or since the last seal). */
  canCharge(tick: bigint): boolean {
    return tick > this.stayStartTick
  }

  /** Every receipt, sealed then the open one (the file's content). */
  list(): PaymentReceipt[] {
    return [...this.sealed, this.open]
  }

  /** The list as of the last checkpoint (SPEC §15 `wallet_receipt` serves it); the same array until it changes. */
  blob(): Uint8Array {
    return this.current
  }

  /** True when the file on disk is behind the list (a periodic checkpoint's write was put off). */
  get behindOnDisk(): boolean {
    return this.dirty
  }

  /**
   * After a checkpoint at `at` is durable: re-signs the open receipt when the
   * checkpoint charged something or ran a tick, seals it when it has been open
   * `spanNs`, and writes the list — for a `periodic` checkpoint that only
   * re-signed the open receipt, at most every `writeEveryNs` (see the file
   * comment). Returns whether the file was rewritten.
   */
  async checkpointed(at: ChargePoint, paid = 0n, periodic = false): Promise<boolean> {
    this.openPaid += paid
    if (at.tick === this.open.epochEnd && at.budget === this.open.budgetAfter) return false
    if (!this.canCharge(at.tick)) {
      // Charged with no tick since the stay began: no sound receipt says that (SPEC §15 tick ranges).
      // The runner does not charge then (see `LiveAgent.chargeAtCheckpoint`); a failed first tick can.
      if (!this.warnedUnsigned) {
        this.options.log.warn({ agentId: this.options.agentId, tick: at.tick.toString(), budget: at.budget.toString() }, 'charged before the stay ran a tick; the receipt waits for the next tick')
        this.warnedUnsigned = true
      }
      return false
    }
    this.open = this.resigned(at)
    const sealing = this.options.nowNs() - this.openedAtNs >= this.options.spanNs
    if (sealing) this.sealOpen(at)
    if (periodic && !sealing && paid === 0n && this.recentlyWritten()) {
      this.changed()
      this.dirty = true
      return false
    }
    await this.write()
    return true
  }

  /** The file was written less than `writeEveryNs` ago. */
  private recentlyWritten(): boolean {
    const every = this.options.writeEveryNs ?? DEFAULT_RECEIPTS_WRITE_EVERY_NS
    return every > 0n && this.writtenAtNs !== null && this.options.nowNs() - this.writtenAtNs < every
  }

  /**
   * Seals the open receipt at `at` (the agent leaves: hand-off or export), and
   * begins a new one there in case it stays after all (a refused hand-off).
   * Returns the blob to send; the file is written.
   */
  async seal(at: ChargePoint): Promise<Uint8Array> {
    const blob = this.sealNow(at)
    await this.write()
    return blob
  }

  /** `seal` without the write (the hand-off builds its package first; `flush` writes once the checkpoint is durable). */
  sealNow(at: ChargePoint, paid = 0n): Uint8Array {
    this.openPaid += paid
    if (this.resign(at) && this.canCharge(at.tick)) this.open = this.resigned(at)
    if (!isEmptyReceipt(this.open)) this.sealOpen(at)
    return encodeReceipts(this.sealed)
  }

  /** Writes the list as it is now. */
  async flush(): Promise<void> {
    await this.write()
  }

  /** Writes the list if a periodic checkpoint put its write off (`igord receipts` on a running node). */
  async flushIfBehind(): Promise<boolean> {
    if (!this.dirty) return false
    await this.write()
    return true
  }

  /** True when `at` differs from what the open receipt says. */
  private resign(at: ChargePoint): boolean {
    return at.tick !== this.open.epochEnd || at.budget !== this.open.budgetAfter
  }

  /** The open receipt re-signed to end at `at` (its start kept). */
  private resigned(at: ChargePoint): PaymentReceipt {
    return this.sign({ epochStart: this.open.epochStart, epochEnd: at.tick, costMicrocents: this.openStart - this.openPaid - at.budget, budgetAfter: at.budget })
  }

  private sealOpen(at: ChargePoint): void {
    this.sealed.push(this.open)
    this.open = this.emptyAt(at)
    this.openStart = at.budget
    this.openPaid = 0n
    this.openedAtNs = this.options.nowNs()
    this.warnedUnsigned = false
  }

  private emptyAt(at: ChargePoint): PaymentReceipt {
    return this.sign({ epochStart: at.tick + 1n, epochEnd: at.tick, costMicrocents: 0n, budgetAfter: at.budget })
  }

  private sign(fields: Pick<PaymentReceipt, 'epochStart' | 'epochEnd' | 'costMicrocents' | 'budgetAfter'>): PaymentReceipt {
    const { agentId, signer, nowNs } = this.options
    return signReceipt({ agentId, nodeId: signer.nodeId, ...fields, timestampNs: nowNs() }, (data) => signer.sign(data))
  }

  private async write(): Promise<void> {
    const blob = encodeReceipts(this.list())
    await writeReceiptsFile(this.options.dir, this.options.agentId, blob)
    this.dirty = false
    this.writtenAtNs = this.options.nowNs()
    this.current = blob
    this.options.onChange?.(blob)
    this.tellSettlement()
  }

  /** The list changed in memory only: what `wallet_receipt` and settlement see moves on; the file waits. */
  private changed(): void {
    this.current = encodeReceipts(this.list())
    this.options.onChange?.(this.current)
    this.tellSettlement()
  }

  /** SPEC §15 settlement: this node's receipts sealed or re-signed since the last write (see `settle`). */
  private tellSettlement(): void {
    const settle = this.options.settle
    if (settle === undefined) return
    const own = (r: PaymentReceipt): boolean => r.nodeId === this.options.signer.nodeId
    for (const r of this.sealed.slice(this.settledSealed)) if (own(r)) settle(r, { sealed: true })
    this.settledSealed = this.sealed.length
    if (this.settledOpen !== this.open && own(this.open)) settle(this.open, { sealed: false })
    this.settledOpen = this.open
  }
}
