// SPEC §15 settlement: the budget adapter interface, `none`, and the `--settlement-url` HTTP adapter.
export { BUDGET_VALID, NONE_BUDGET_ADAPTER, budgetRefusalReason, type BudgetAdapter, type BudgetVerdict, type SettlementInfo, type SettlementMetrics } from './types.js'
export { HttpBudgetAdapter, type HttpBudgetAdapterOptions } from './http-adapter.js'
export { BUDGET_CHECK_INTERVAL_MS } from './budget-cache.js'
export { systemSettlementClock, type SettlementClock } from './clock.js'
export { budgetUrl, idempotencyKey, parseSettlementUrl, receiptBody, receiptsUrl } from './wire.js'
