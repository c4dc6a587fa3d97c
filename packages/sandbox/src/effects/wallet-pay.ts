/**
 * SPEC §15 `wallet_pay` (capability `x402`): the answers, the receipt bytes,
 * and the node's side of the call. The worker checks what it can without the
 * node (−2 lengths, −6 out of bounds, −6 amount ≤ 0) and hands the rest to
 * the node's main thread, which answers in the SPEC order: −4 over
 * `max_payment_microcents`, −3 recipient not allowed (an absent or empty list
 * allows nothing), −5 buffer too small (with the hint), −6 output gate (ours:
 * not the live owner), −1 budget below the amount; then deducts, signs with
 * the AGENT's key and returns the receipt. Nothing is charged on a negative answer.
 *
 * Receipt (little-endian):
 * `amount i64 ‖ timestampNs i64 ‖ u32 len ‖ recipient ‖ u32 len ‖ memo ‖ agentPubKey(32) ‖ signature(64)`.
 */
import type { X402Options } from '../manifest/x402-options.js'

export const WALLET_PAY_ERR_BUDGET = -1
export const WALLET_PAY_ERR_TOO_LONG = -2
export const WALLET_PAY_ERR_RECIPIENT = -3
export const WALLET_PAY_ERR_OVER_MAX = -4
export const WALLET_PAY_ERR_BUFFER = -5
/** Out of bounds, an amount ≤ 0, or (ours) not the live owner. */
export const WALLET_PAY_ERR_INVALID = -6

/** SPEC §15: `recipient_len > 256` or `memo_len > 512` → −2. */
export const WALLET_PAY_MAX_RECIPIENT = 256
export const WALLET_PAY_MAX_MEMO = 512
const KEY_BYTES = 32
const SIGNATURE_BYTES = 64

/** The receipt's length for these field lengths: 8 + 8 + 4 + r + 4 + m + 32 + 64. */
export const walletPayReceiptLength = (recipientLen: number, memoLen: number): number => 120 + recipientLen + memoLen

/** What the worker hands the node after its own checks passed. */
export interface WalletPayCall {
  /** i64 microcents, > 0. */
  readonly amount: bigint
  /** The recipient's bytes as the agent wrote them (≤ 256). */
  readonly recipient: Uint8Array
  /** The memo's bytes (≤ 512), opaque. */
  readonly memo: Uint8Array
  /** `receipt_cap` as the agent passed it (u32). */
  readonly receiptCap: number
}

/** The node's answer: a receipt, or a negative code (−5 with the receipt's length as hint). */
export type WalletPayAnswer =
  | { readonly ok: true, readonly receipt: Uint8Array }
  | { readonly ok: false, readonly code: number, readonly hint?: number }

/** Signs as the agent: `AgentIdentity` from `@igor/identity` fits. */
export interface WalletPaySigner {
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Uint8Array
}

export interface WalletPayContext {
  readonly options: X402Options
  /** The output gate (SPEC §13): true only while this node is ACTIVE_OWNER with an unexpired lease. */
  isOwner(): boolean
  /** The agent's budget now (i64 microcents). */
  budget(): bigint
  /** Takes `amount` off the budget and keeps the receipt (the payments log); called only on success. */
  paid(amount: bigint, receipt: Uint8Array): void
  /** The agent's key; null when the agent has none (every payment then answers −1). */
  readonly signer: WalletPaySigner | null
  /** Wall-clock Unix ns for the receipt. */
  nowNs(): bigint
}

/** The worker's part of the order: −2, then −6 for out of bounds (the caller), then −6 for amount ≤ 0. */
export function checkWalletPayLengths(recipientLen: number, memoLen: number): 0 | typeof WALLET_PAY_ERR_TOO_LONG {
  return (recipientLen >>> 0) > WALLET_PAY_MAX_RECIPIENT || (memoLen >>> 0) > WALLET_PAY_MAX_MEMO ? WALLET_PAY_ERR_TOO_LONG : 0
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The recipient as text, or null when it is not UTF-8 (then it matches no entry). */
function recipientText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}

/** The node's part of the order (see the file comment). Never throws for anything the agent does. */
export function performWalletPay(call: WalletPayCall, context: WalletPayContext): WalletPayAnswer {
  if (call.amount <= 0n) return { ok: false, code: WALLET_PAY_ERR_INVALID }
  const { options } = context
  if (options.maxPaymentMicrocents > 0n && call.amount > options.maxPaymentMicrocents) return { ok: false, code: WALLET_PAY_ERR_OVER_MAX }
  const recipient = recipientText(call.recipient)
  if (recipient === null || !options.allowedRecipients.includes(recipient)) return { ok: false, code: WALLET_PAY_ERR_RECIPIENT }
  const length = walletPayReceiptLength(call.recipient.byteLength, call.memo.byteLength)
  if (4 + length > (call.receiptCap >>> 0)) return { ok: false, code: WALLET_PAY_ERR_BUFFER, hint: length }
  if (!context.isOwner()) return { ok: false, code: WALLET_PAY_ERR_INVALID }
  if (context.signer === null || context.budget() < call.amount) return { ok: false, code: WALLET_PAY_ERR_BUDGET }
  const receipt = signWalletPay({ amount: call.amount, timestampNs: context.nowNs(), recipient: call.recipient, memo: call.memo }, context.signer)
  context.paid(call.amount, receipt)
  return { ok: true, receipt }
}

/** The receipt bytes, signed by `signer` over every byte before the signature. */
export function signWalletPay(fields: { amount: bigint, timestampNs: bigint, recipient: Uint8Array, memo: Uint8Array }, signer: WalletPaySigner): Uint8Array {
  const { recipient, memo } = fields
  const length = walletPayReceiptLength(recipient.byteLength, memo.byteLength)
  const out = new Uint8Array(length)
  const view = new DataView(out.buffer)
  view.setBigInt64(0, BigInt.asIntN(64, fields.amount), true)
  view.setBigInt64(8, BigInt.asIntN(64, fields.timestampNs), true)
  view.setUint32(16, recipient.byteLength, true)
  out.set(recipient, 20)
  let pos = 20 + recipient.byteLength
  view.setUint32(pos, memo.byteLength, true)
  out.set(memo, pos + 4)
  pos += 4 + memo.byteLength
  if (signer.publicKey.byteLength !== KEY_BYTES) throw new RangeError(`agent key must be ${KEY_BYTES} bytes, got ${signer.publicKey.byteLength}`)
  out.set(signer.publicKey, pos)
  pos += KEY_BYTES
  const signature = signer.sign(out.subarray(0, pos))
  if (signature.byteLength !== SIGNATURE_BYTES) throw new RangeError(`signature must be ${SIGNATURE_BYTES} bytes, got ${signature.byteLength}`)
  out.set(signature, pos)
  return out
}

/** `[receiptLen u32 LE][receipt]` into `target` (which holds at least 4 + its length). */
export function writeWalletPayReceipt(target: Uint8Array, receipt: Uint8Array): void {
  new DataView(target.buffer, target.byteOffset, 4).setUint32(0, receipt.byteLength, true)
  target.set(receipt, 4)
}
