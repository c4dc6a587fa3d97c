// SPEC §15 receipts: the payment receipt a node signs for the ticks it ran,
// byte for byte the reference's layout (all integers little-endian):
//   signData = u32 len ‖ agentId ‖ u32 len ‖ nodeId ‖ u64 epochStart ‖ u64 epochEnd
//              ‖ i64 costMicrocents ‖ i64 budgetAfter ‖ i64 timestampNs
//   receipt  = signData ‖ u32 sigLen (64) ‖ Ed25519(node key, signData)
//   receipts = u32 count ‖ (u32 len ‖ receipt)*
import { decodeEach, decodeFramedList, encodeFramedList } from './framed-list.js'
import type { FramedListOptions } from './framed-list.js'
import { LeReader, LeWriter, i64Field, u64Field, utf8Field } from './le-bytes.js'
import { ReceiptError } from './receipt-errors.js'

/** Longest `agentId` / `nodeId` accepted, in UTF-8 bytes (ours: the reference has no bound). */
export const RECEIPT_MAX_ID_BYTES = 1024
export const RECEIPT_SIGNATURE_LENGTH = 64

/** Node N ran agent A for ticks `epochStart…epochEnd`, charged `costMicrocents`, leaving `budgetAfter`. */
export interface PaymentReceipt {
  readonly agentId: string
  /** The signing node's libp2p peer id string; its Ed25519 key is inside it. */
  readonly nodeId: string
  /** First tick of the range (u64). */
  readonly epochStart: bigint
  /** Last tick of the range, inclusive (u64). */
  readonly epochEnd: bigint
  /** i64 microcents. */
  readonly costMicrocents: bigint
  /** i64 microcents. */
  readonly budgetAfter: bigint
  /** i64 Unix nanoseconds when the receipt was (re-)signed. */
  readonly timestampNs: bigint
  /** 64 bytes: Ed25519 of `receiptSignData(this)` by the node's key. */
  readonly signature: Uint8Array
}

/** A receipt before it is signed. */
export type PaymentReceiptFields = Omit<PaymentReceipt, 'signature'>

const WHAT = 'receipt'
const FIXED_TAIL = 5 * 8

/** The canonical bytes the node signs. `RangeError`/`TypeError` for a field outside its type; `ReceiptError` for an id too long. */
export function receiptSignData(r: PaymentReceiptFields): Uint8Array {
  const agent = utf8Field(r.agentId, 'agentId', RECEIPT_MAX_ID_BYTES, WHAT)
  const node = utf8Field(r.nodeId, 'nodeId', RECEIPT_MAX_ID_BYTES, WHAT)
  return new LeWriter(4 + agent.length + 4 + node.length + FIXED_TAIL)
    .lengthPrefixed(agent)
    .lengthPrefixed(node)
    .u64(u64Field(r.epochStart, 'epochStart', WHAT))
    .u64(u64Field(r.epochEnd, 'epochEnd', WHAT))
    .i64(i64Field(r.costMicrocents, 'costMicrocents', WHAT))
    .i64(i64Field(r.budgetAfter, 'budgetAfter', WHAT))
    .i64(i64Field(r.timestampNs, 'timestampNs', WHAT))
    .bytes
}

function checkSignature(signature: unknown): Uint8Array {
  if (!(signature instanceof Uint8Array) || signature.length !== RECEIPT_SIGNATURE_LENGTH) {
    const got = signature instanceof Uint8Array ? `${signature.length} bytes` : typeof signature
    throw new ReceiptError('BAD_SIGNATURE_LENGTH', `${WHAT} signature must be ${RECEIPT_SIGNATURE_LENGTH} bytes, got ${got}`, { field: 'signature' })
  }
  return signature
}

/** `signData ‖ u32 64 ‖ signature`. */
export function encodeReceipt(r: PaymentReceipt): Uint8Array {
  const signData = receiptSignData(r)
  const signature = checkSignature(r.signature)
  return new LeWriter(signData.length + 4 + RECEIPT_SIGNATURE_LENGTH).raw(signData).u32(signature.length).raw(signature).bytes
}

/**
 * One receipt from exactly `bytes`. Raises `ReceiptError` and nothing else for
 * any `Uint8Array`: a length past the end (`TRUNCATED`), an id over 1024 bytes
 * (`TOO_LONG`), an id that is not UTF-8, `sigLen` ≠ 64, trailing bytes. The
 * signature is not checked here (`verifyReceipt`); the result holds copies.
 */
export function decodeReceipt(bytes: Uint8Array): PaymentReceipt {
  const reader = new LeReader(bytes, WHAT)
  const agentId = reader.string('agentId', RECEIPT_MAX_ID_BYTES)
  const nodeId = reader.string('nodeId', RECEIPT_MAX_ID_BYTES)
  const epochStart = reader.u64('epochStart')
  const epochEnd = reader.u64('epochEnd')
  const costMicrocents = reader.i64('costMicrocents')
  const budgetAfter = reader.i64('budgetAfter')
  const timestampNs = reader.i64('timestampNs')
  const sigLen = reader.u32('sigLen')
  if (sigLen !== RECEIPT_SIGNATURE_LENGTH) {
    throw new ReceiptError('BAD_SIGNATURE_LENGTH', `${WHAT} sigLen is ${sigLen}, must be ${RECEIPT_SIGNATURE_LENGTH}`, { field: 'sigLen' })
  }
  const signature = reader.bytes(sigLen, 'signature')
  reader.end()
  return { agentId, nodeId, epochStart, epochEnd, costMicrocents, budgetAfter, timestampNs, signature }
}

/**
 * Signs `fields` with `sign` (the node passes its libp2p key's signer; this
 * package has no libp2p dependency). `sign` must return the 64-byte Ed25519
 * signature of the data synchronously.
 */
export function signReceipt(fields: PaymentReceiptFields, sign: (data: Uint8Array) => Uint8Array): PaymentReceipt {
  const signData = receiptSignData(fields)
  const signature = checkSignature(sign(signData))
  return {
    agentId: fields.agentId,
    nodeId: fields.nodeId,
    epochStart: fields.epochStart,
    epochEnd: fields.epochEnd,
    costMicrocents: fields.costMicrocents,
    budgetAfter: fields.budgetAfter,
    timestampNs: fields.timestampNs,
    signature: Uint8Array.from(signature)
  }
}

/** The `receipts` blob: `u32 count ‖ (u32 len ‖ receipt)*`. */
export function encodeReceipts(list: readonly PaymentReceipt[]): Uint8Array {
  return encodeFramedList(list.map(encodeReceipt))
}

/** Every receipt of a `receipts` blob, oldest first; `ReceiptError` (naming the entry) and nothing else for bad bytes. */
export function decodeReceipts(blob: Uint8Array, options: FramedListOptions = {}): PaymentReceipt[] {
  return decodeEach(decodeFramedList(blob, 'receipts', options), WHAT, decodeReceipt)
}
