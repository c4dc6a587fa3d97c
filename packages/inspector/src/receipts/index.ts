// SPEC §15 audit: the offline receipt audit and its renderings.
export { auditReceipts } from './audit.js'
export { receiptVerdictLine, renderReceiptAuditText } from './render-text.js'
export { renderReceiptAuditJson } from './render-json.js'
export type {
  AuditedPayment, AuditedReceipt, ConservationCheck, NodeTotal, ReceiptAudit, ReceiptAuditInput
} from './types.js'
export { AuditInputError } from './input-error.js'
export type { AuditInput, AuditInputErrorCode } from './input-error.js'
