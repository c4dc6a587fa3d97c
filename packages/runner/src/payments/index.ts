// SPEC §15 `wallet_pay` payments on a running node: the log, its files, the restart and the arrival check.
export { PaymentLog, beginPayments, openPayments } from './log.js'
export { PAYMENTS_SUFFIX, PENDING_SUFFIX, deletePaymentsFiles, paymentsFileName, readPaymentsFile } from './files.js'
export { checkArrivalPayments } from './arrival.js'
export { decodePayments as decodePaymentsFile, paymentAmount } from './codec.js'
