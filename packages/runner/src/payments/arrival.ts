// SPEC §15 migration: `Package.Payments` checked on arrival, before anything is written: the blob
// decodes (bounded), every payment is positive and signed by the agent's own key (the one in its
// checkpoint's lineage; without one, by one key for all). Refused with a one-line reason
// (`PAYMENTS_INVALID`).
import { ReceiptError, verifyWalletPayReceipt } from '@igor/checkpoint-codec'
import { RunnerError } from '../errors.js'
import { decodePaymentEntries } from './codec.js'

/** The arriving agent's payments as bytes (empty when the package carried none), or `RunnerError('PAYMENTS_INVALID')`. */
export function checkArrivalPayments(agentId: string, blob: Uint8Array | undefined, agentKey: Uint8Array | null): Uint8Array[] {
  if (blob === undefined || blob.byteLength === 0) return []
  const refuse = (reason: string): never => {
    throw new RunnerError('PAYMENTS_INVALID', `Package.Payments of ${agentId}: ${reason}`)
  }
  let decoded
  try {
    decoded = decodePaymentEntries(blob)
  } catch (error) {
    if (error instanceof ReceiptError) return refuse(error.message)
    throw error
  }
  const list = decoded.receipts
  const key = agentKey ?? list[0]?.agentPubKey
  for (const [index, p] of list.entries()) {
    if (p.amount <= 0n) refuse(`payment ${index}: amount ${p.amount} is not positive`)
    const check = verifyWalletPayReceipt(p, key)
    if (!check.ok) refuse(`payment ${index} (${p.amount} to ${JSON.stringify(p.recipient)}): ${check.reason}`)
  }
  return decoded.bytes
}
