// @igor/sdk — write an Igor agent in AssemblyScript (SPEC §13).
//
//   import { Agent, Decoder, Encoder, clockNow, log, register } from "@igor/sdk";
//   export * from "@igor/sdk/exports";
//   class Counter extends Agent { … }
//   register(new Counter());
export { Agent, register } from "./agent";
export { Decoder, Encoder } from "./encoding";
export {
  COMPENSATED, CONFIRMED, EFFECT_EXISTS, EFFECT_INVALID_TRANSITION, EFFECT_NOT_FOUND, EFFECT_OK,
  EffectLog, IN_FLIGHT, Intent, RECORDED, UNRESOLVED
} from "./effects";
export { clockNow, log, nodePrice, randBytes, requestMove, walletBalance } from "./hostcalls";
export { RECEIPT_MAX_BYTES, Receipt, receiptBytes, receiptCount, receipts } from "./receipts";
export {
  DEFAULT_RESPONSE_CAPACITY, HTTP_ERR_HOST_BLOCKED, HTTP_ERR_NOT_OWNER, HTTP_ERR_TIMEOUT, HTTP_ERR_TOO_LARGE,
  HTTP_ERR_TOO_LONG, HTTP_ERR_TRANSPORT, HttpResponse, MAX_RETRY_BYTES, header, httpGet, httpPost, httpRequest
} from "./http";
export {
  DEFAULT_RECEIPT_CAPACITY, PAY_ERR_BUDGET, PAY_ERR_BUFFER, PAY_ERR_INVALID, PAY_ERR_OVER_MAX, PAY_ERR_RECIPIENT, PAY_ERR_TOO_LONG,
  Payment, walletPay
} from "./wallet-pay";
