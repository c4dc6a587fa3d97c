// SPEC §15 receipts: offline verification. A node receipt verifies against the
// Ed25519 key inside its `nodeId` peer id; a `wallet_pay` receipt against the
// agent key it embeds (and, when given, the key the agent is known by).
// Uses node:crypto (through @igor/identity), so it lives on `.`, not `/portable`.
import { verifySignature } from '@igor/identity'
import { peerIdPublicKey } from './peer-id.js'
import { ReceiptError } from './receipt-errors.js'
import { receiptSignData } from './receipts.js'
import type { PaymentReceipt } from './receipts.js'
import { walletPaySignData } from './wallet-pay.js'
import type { WalletPayReceipt } from './wallet-pay.js'

/** The verdict on one receipt; `reason` is one line. */
export type ReceiptCheck = { readonly ok: true } | { readonly ok: false, readonly reason: string }

const OK: ReceiptCheck = Object.freeze({ ok: true })

function refused(reason: string): ReceiptCheck {
  return { ok: false, reason }
}

/** Whatever a malformed receipt object throws while its bytes are rebuilt, as a reason. */
function reasonOf(error: unknown): string {
  if (error instanceof ReceiptError || error instanceof RangeError || error instanceof TypeError) return error.message
  throw error
}

/**
 * Checks the node's signature against the public key inside `r.nodeId`.
 * Never throws for a malformed receipt: a peer id that is not Ed25519 (an RSA
 * `Qm…` id, a secp256k1 key), a field out of range or a bad signature is
 * `{ ok: false, reason }`.
 */
export function verifyReceipt(r: PaymentReceipt): ReceiptCheck {
  let key: Uint8Array
  let data: Uint8Array
  try {
    key = peerIdPublicKey(r.nodeId)
    data = receiptSignData(r)
  } catch (error) {
    return refused(`node ${r.nodeId}: ${reasonOf(error)}`)
  }
  if (!(r.signature instanceof Uint8Array) || !verifySignature(key, data, r.signature)) {
    return refused(`signature does not verify with the key of node ${r.nodeId}`)
  }
  return OK
}

/**
 * Checks the agent's signature against the key the receipt embeds, and that
 * key against `agentPubKey` when the caller knows the agent's key (its
 * identity, or a v0x04 checkpoint's `agentPubKey`).
 */
export function verifyWalletPayReceipt(r: WalletPayReceipt, agentPubKey?: Uint8Array): ReceiptCheck {
  let data: Uint8Array
  try {
    data = walletPaySignData(r)
  } catch (error) {
    return refused(reasonOf(error))
  }
  if (agentPubKey !== undefined && !sameBytes(agentPubKey, r.agentPubKey)) {
    return refused(`signed by key ${hexPrefix(r.agentPubKey)}…, not the agent's key ${hexPrefix(agentPubKey)}…`)
  }
  if (!(r.signature instanceof Uint8Array) || !verifySignature(r.agentPubKey, data, r.signature)) {
    return refused(`signature does not verify with the embedded agent key ${hexPrefix(r.agentPubKey)}…`)
  }
  return OK
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function hexPrefix(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes.subarray(0, 8)) out += byte.toString(16).padStart(2, '0')
  return out
}
