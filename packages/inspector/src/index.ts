export { CheckpointError } from '@igor/checkpoint-codec'
export type { CheckpointErrorCode } from '@igor/checkpoint-codec'
export { STATE_PREVIEW_LENGTH, inspectCheckpoint } from './report.js'
export type { CheckpointReport, InspectOptions, LineageReport, WasmVerification } from './report.js'
export { renderText, wasmMismatchLine } from './render-text.js'
export { renderJson } from './render-json.js'
export { sha256Hex } from './sha256.js'
export { hexDump } from './hexdump.js'
export { formatMicrocents, formatUnixNanos, formatUnixSeconds, toHex } from './format.js'
export {
  HistoryError, findForks, findForksWith, isSegmentName, mergeHistories, nodeLineageCrypto, readHistoryDir, readHistoryDirWithMarker, renderLineageReport, segmentHistoryFiles,
  verifyHistories, verifyHistoriesWith, verifyHistory, verifyHistoryDirs, verifyHistoryWith
} from './lineage/index.js'
export type { HistoryContext, HistoryFile, LineageCrypto, LineageResult, LineageSegment } from './lineage/index.js'
export { ReceiptError } from '@igor/checkpoint-codec'
export type { ReceiptErrorCode } from '@igor/checkpoint-codec'
export { AuditInputError, auditReceipts, receiptVerdictLine, renderReceiptAuditJson, renderReceiptAuditText } from './receipts/index.js'
export type {
  AuditInput, AuditInputErrorCode, AuditedPayment, AuditedReceipt, ConservationCheck, NodeTotal, ReceiptAudit, ReceiptAuditInput
} from './receipts/index.js'
