// SPEC §15 receipts: what both entries (`.` and `/portable`) export of the
// receipt bytes. Verification (node:crypto) is exported from `.` only.
export { ReceiptError } from './receipt-errors.js'
export type { ReceiptErrorCode, ReceiptErrorDetails } from './receipt-errors.js'
export {
  RECEIPT_MAX_ID_BYTES, RECEIPT_SIGNATURE_LENGTH, decodeReceipt, decodeReceipts, encodeReceipt, encodeReceipts,
  receiptSignData, signReceipt
} from './receipts.js'
export type { PaymentReceipt, PaymentReceiptFields } from './receipts.js'
export {
  WALLET_PAY_MAX_MEMO_BYTES, WALLET_PAY_MAX_RECIPIENT_BYTES, decodePayments, decodeWalletPayReceipt, encodePayments,
  encodeWalletPayReceipt, signWalletPayReceipt, walletPaySignData
} from './wallet-pay.js'
export type { WalletPayFields, WalletPayReceipt, WalletPaySigner } from './wallet-pay.js'
export { decodeFramedList, encodeFramedList } from './framed-list.js'
export type { FramedListOptions } from './framed-list.js'
export { ed25519PeerId, peerIdPublicKey } from './peer-id.js'
export { receiptChainProblems } from './receipt-chain.js'
