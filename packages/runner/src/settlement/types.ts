// SPEC §15 Settlement (seed's budget adapter): what the runner asks before each tick and tells after
// each receipt. `validateBudget` answers from what the adapter already knows (never a network call on
// the tick path); `recordSettlement` is told, never awaited, so settlement never blocks a tick.
import type { PaymentReceipt } from '@igor/checkpoint-codec'

/** An adapter's answer for one agent now: valid, or refused with a one-line reason. */
export type BudgetVerdict = { readonly valid: true } | { readonly valid: false, readonly reason: string }

export const BUDGET_VALID: BudgetVerdict = Object.freeze({ valid: true })

/** What `recordSettlement` is told about a receipt besides its bytes. */
export interface SettlementInfo {
  /** True when the receipt is final (sealed: on leaving, on `--receipt-span`, on a restart); false for a re-signed open one. */
  readonly sealed: boolean
}

/** Counters an adapter with a queue can show (igord's /metrics). */
export interface SettlementMetrics {
  /** Receipts waiting in the outbox. */
  readonly outboxSize: number
  /** Age of the oldest waiting receipt in ms (0 when none waits): the settlement lag. */
  readonly lagMs: number
  /** Failed deliveries and budget checks since the node started. */
  readonly failuresTotal: number
  /** Receipts delivered (2xx) since the node started. */
  readonly deliveredTotal: number
}

/**
 * SPEC §15 `BudgetAdapter`. Both methods are synchronous and must not throw
 * (a throw is logged and treated as "no change"); anything slow happens in the
 * adapter's background.
 */
export interface BudgetAdapter {
  /** Called before each tick: a refusal halts the agent's ticking with `budget not valid: <reason>` until a later call says valid. */
  validateBudget(agentId: string, budget: bigint): BudgetVerdict
  /** Called after each receipt this node signed was sealed or re-signed and written to the receipts file. */
  recordSettlement(receipt: PaymentReceipt, info: SettlementInfo): void
  /** Queue counters, for adapters that have a queue. */
  metrics?(): SettlementMetrics
  /** Stops background work (pending receipts stay durable). */
  close?(): Promise<void>
}

/** The default (`none`): every budget is valid, nothing is recorded. */
export const NONE_BUDGET_ADAPTER: BudgetAdapter = Object.freeze({
  validateBudget: (): BudgetVerdict => BUDGET_VALID,
  recordSettlement: (): void => {}
})

/** The status / halt reason of a refusal. */
export const budgetRefusalReason = (reason: string): string => `budget not valid: ${reason}`
