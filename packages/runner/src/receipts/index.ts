// SPEC §15 receipts on a running node: the open receipt per stay, its file and the restart repair.
export { ReceiptBook, type ReceiptBookOptions } from './book.js'
export { decodeReceiptsFile, deleteReceiptsFile, readReceiptsFile, receiptsFileName, writeReceiptsFile } from './files.js'
export { isEmptyReceipt, repairReceipts, type RepairAction, type RepairResult } from './repair.js'
export { DEFAULT_RECEIPT_SPAN_NS, MAX_RECEIPTS, RECEIPTS_SUFFIX, type ChargePoint, type ReceiptSigner } from './types.js'
export { beginStay, type StayPrior } from './stay.js'
export { checkArrivalReceipts } from './arrival.js'
