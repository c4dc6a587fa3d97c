// SPEC §15 wallet_pay: the receipt an agent gets back from `wallet_pay`, signed
// by the AGENT's key (the reference's newest layout, little-endian):
//   amount i64 ‖ timestampNs i64 ‖ u32 len ‖ recipient ‖ u32 len ‖ memo ‖ agentPubKey(32) ‖ signature(64)
// The signature covers every byte before it. The `payments` blob frames them
// like receipts: u32 count ‖ (u32 len ‖ receipt)*.
import { decodeEach, decodeFramedList, encodeFramedList } from './framed-list.js'
import type { FramedListOptions } from './framed-list.js'
import { LeReader, LeWriter, bytesField, i64Field, utf8Field } from './le-bytes.js'
import { ReceiptError } from './receipt-errors.js'

/** `recipient_len > 256` is −2 in the hostcall, so no receipt holds more. */
export const WALLET_PAY_MAX_RECIPIENT_BYTES = 256
/** `memo_len > 512` is −2 in the hostcall. */
export const WALLET_PAY_MAX_MEMO_BYTES = 512
const KEY_LENGTH = 32
const SIGNATURE_LENGTH = 64

export interface WalletPayReceipt {
  /** i64 microcents paid. */
  readonly amount: bigint
  /** i64 Unix nanoseconds of the payment. */
  readonly timestampNs: bigint
  /** UTF-8 text: it matched an entry of the manifest's `allowed_recipients`. */
  readonly recipient: string
  /** The agent's memo bytes as given (opaque; not necessarily text). */
  readonly memo: Uint8Array
  /** The agent's 32-byte Ed25519 public key. */
  readonly agentPubKey: Uint8Array
  /** 64 bytes: Ed25519 of `walletPaySignData(this)` by the agent's key. */
  readonly signature: Uint8Array
}

export type WalletPayFields = Omit<WalletPayReceipt, 'agentPubKey' | 'signature'>

/** Anything that signs as the agent: an `AgentIdentity` from `@igor/identity` fits. */
export interface WalletPaySigner {
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Uint8Array
}

const WHAT = 'payment receipt'

/** A fixed-size field: a signature of the wrong size is `BAD_SIGNATURE_LENGTH`, a key of the wrong size a `RangeError`. */
function keyField(value: unknown, field: 'agentPubKey' | 'signature', length: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value
    const message = `${WHAT} ${field} must be ${length} bytes, got ${got}`
    if (field === 'signature') throw new ReceiptError('BAD_SIGNATURE_LENGTH', message, { field })
    throw new RangeError(message)
  }
  return value
}

/** Every byte the agent signs: the receipt without its signature. */
export function walletPaySignData(r: Omit<WalletPayReceipt, 'signature'>): Uint8Array {
  const recipient = utf8Field(r.recipient, 'recipient', WALLET_PAY_MAX_RECIPIENT_BYTES, WHAT)
  const memo = bytesField(r.memo, 'memo', WALLET_PAY_MAX_MEMO_BYTES, WHAT)
  const key = keyField(r.agentPubKey, 'agentPubKey', KEY_LENGTH)
  return new LeWriter(8 + 8 + 4 + recipient.length + 4 + memo.length + KEY_LENGTH)
    .i64(i64Field(r.amount, 'amount', WHAT))
    .i64(i64Field(r.timestampNs, 'timestampNs', WHAT))
    .lengthPrefixed(recipient)
    .lengthPrefixed(memo)
    .raw(key)
    .bytes
}

export function encodeWalletPayReceipt(r: WalletPayReceipt): Uint8Array {
  const data = walletPaySignData(r)
  const signature = keyField(r.signature, 'signature', SIGNATURE_LENGTH)
  return new LeWriter(data.length + SIGNATURE_LENGTH).raw(data).raw(signature).bytes
}

/**
 * One `wallet_pay` receipt from exactly `bytes`; `ReceiptError` and nothing else
 * for any `Uint8Array` (truncated, recipient over 256 or memo over 512 bytes,
 * a recipient that is not UTF-8, trailing bytes). Not verified here.
 */
export function decodeWalletPayReceipt(bytes: Uint8Array): WalletPayReceipt {
  const reader = new LeReader(bytes, WHAT)
  const amount = reader.i64('amount')
  const timestampNs = reader.i64('timestampNs')
  const recipient = reader.string('recipient', WALLET_PAY_MAX_RECIPIENT_BYTES)
  const memo = reader.lengthPrefixed('memo', WALLET_PAY_MAX_MEMO_BYTES)
  const agentPubKey = reader.bytes(KEY_LENGTH, 'agentPubKey')
  const signature = reader.bytes(SIGNATURE_LENGTH, 'signature')
  reader.end()
  return { amount, timestampNs, recipient, memo, agentPubKey, signature }
}

/** Builds and signs the receipt with the agent's key (`signer.publicKey` is embedded). */
export function signWalletPayReceipt(fields: WalletPayFields, signer: WalletPaySigner): WalletPayReceipt {
  const agentPubKey = Uint8Array.from(keyField(signer.publicKey, 'agentPubKey', KEY_LENGTH))
  const unsigned = {
    amount: fields.amount, timestampNs: fields.timestampNs, recipient: fields.recipient, memo: Uint8Array.from(bytesField(fields.memo, 'memo', WALLET_PAY_MAX_MEMO_BYTES, WHAT)), agentPubKey
  }
  const signature = Uint8Array.from(keyField(signer.sign(walletPaySignData(unsigned)), 'signature', SIGNATURE_LENGTH))
  return { ...unsigned, signature }
}

/** The `payments` blob: `u32 count ‖ (u32 len ‖ receipt)*`. */
export function encodePayments(list: readonly WalletPayReceipt[]): Uint8Array {
  return encodeFramedList(list.map(encodeWalletPayReceipt))
}

/** Every payment of a `payments` blob, oldest first; `ReceiptError` (naming the entry) and nothing else for bad bytes. */
export function decodePayments(blob: Uint8Array, options: FramedListOptions = {}): WalletPayReceipt[] {
  return decodeEach(decodeFramedList(blob, 'payments', options), 'payment', decodeWalletPayReceipt)
}
