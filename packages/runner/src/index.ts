export { RunnerError, type RunnerErrorCode } from './errors.js'
export * from './store/index.js'
export { AgentHost, DEFAULT_TIMING, type AgentModule, type HandoffReplayData, type AgentStatus, type AgentTiming, type HandoffSnapshot, type ReceiptsSnapshot } from './agent-host.js'
export { DEFAULT_MIN_FREE_DISK_BYTES, agentIdFor, NodeRuntime, type IncomingAgent, type NodeRuntimeOptions, type StartAgentOptions } from './node-runtime.js'
export { MAX_PRICE_PER_SECOND, PRICE_FILE, checkPrice, readDurablePrice, type DurablePrice, type NodePriceInfo, type PriceOffer, type PriceSource } from './node-runtime.js'
export { QUARANTINE_AFTER_STARTS, countStrikes, quarantineReason } from './containment/quarantine.js'
export { ADMISSION_MARKER_FILE, AdmissionGuard, admissionRefusalReason, type AdmissionRefusal } from './containment/admission-guard.js'
export { DEFAULT_FENCE_CAP, DEFAULT_FENCE_TTL_MS, FenceStore, type FenceEntry, type FenceRow, type FenceStoreOptions } from './authority/fences.js'
export type { AuthorityHolding, AuthorityStake } from './authority/holdings.js'
export { STAKE_DOMAIN, knownAgentKey, readStakeSigner, stakeStatement, verifyStakeProof, type ProvenStake, type StakeSigner } from './authority/stake.js'
export { ObserverRegistry, observeRuntime, type RuntimeObserver } from './observer.js'
export * from './lineage/index.js'
// The sandbox pieces the node's own API speaks in, so @igor/migration (which
// may import the runner only, SPEC §1) needs nothing below it.
export { type Logger, MAX_MANIFEST_BYTES, MAX_TICK_LOG_BYTES, silentLogger } from '@igor/sandbox'
export {
  DEFAULT_RECEIPT_SPAN_NS, RECEIPTS_SUFFIX, ReceiptBook, beginStay, checkArrivalReceipts, decodeReceiptsFile, readReceiptsFile, receiptsFileName, repairReceipts,
  type ChargePoint, type ReceiptSigner, type RepairAction
} from './receipts/index.js'
export {
  PAYMENTS_SUFFIX, PENDING_SUFFIX, PaymentLog, beginPayments, checkArrivalPayments, decodePaymentsFile, deletePaymentsFiles, openPayments, paymentAmount,
  paymentsFileName, readPaymentsFile
} from './payments/index.js'
export {
  BUDGET_CHECK_INTERVAL_MS, BUDGET_VALID, HttpBudgetAdapter, NONE_BUDGET_ADAPTER, budgetRefusalReason, budgetUrl, idempotencyKey, parseSettlementUrl, receiptBody, receiptsUrl, systemSettlementClock,
  type BudgetAdapter, type BudgetVerdict, type HttpBudgetAdapterOptions, type SettlementClock, type SettlementInfo, type SettlementMetrics
} from './settlement/index.js'
