export {
  HTTP_ERR_HOST_BLOCKED, HTTP_ERR_NOT_OWNER, HTTP_ERR_TIMEOUT, HTTP_ERR_TOO_LARGE, HTTP_ERR_TOO_LONG, HTTP_ERR_TRANSPORT,
  HTTP_HOSTCALL_ID, HTTP_LIMITS, checkHttpInputSizes, httpObservation, httpUrlHost, idempotencyKey, isAllowedHost,
  parseHeaderLines, writeHttpResponse
} from './http-abi.js'
export type { HttpErrorCode } from './http-abi.js'
export { MAX_REDIRECTS, performHttpCall } from './http.js'
export type { HttpCall, HttpCallContext, HttpCallResult } from './http.js'
export { DEFAULT_DENIED, EgressPolicy, EgressRuleError, normalizeHostName, splitRules } from './egress-policy.js'
export type { EgressVerdict } from './egress-policy.js'
export { DEFAULT_HTTP_RATE, HttpRateLimiter } from './http-rate.js'
export {
  WALLET_PAY_ERR_BUDGET, WALLET_PAY_ERR_BUFFER, WALLET_PAY_ERR_INVALID, WALLET_PAY_ERR_OVER_MAX, WALLET_PAY_ERR_RECIPIENT,
  WALLET_PAY_ERR_TOO_LONG, WALLET_PAY_MAX_MEMO, WALLET_PAY_MAX_RECIPIENT, checkWalletPayLengths, performWalletPay, signWalletPay,
  walletPayReceiptLength, writeWalletPayReceipt
} from './wallet-pay.js'
export type { WalletPayAnswer, WalletPayCall, WalletPayContext, WalletPaySigner } from './wallet-pay.js'
