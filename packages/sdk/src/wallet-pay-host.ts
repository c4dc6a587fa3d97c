/**
 * SPEC §15 `wallet_pay` for the test host: the order of answers and the
 * receipt bytes the node produces (`amount i64 ‖ timestampNs i64 ‖ u32 len ‖
 * recipient ‖ u32 len ‖ memo ‖ agentPubKey(32) ‖ signature(64)`, Ed25519 by
 * the agent's key), with node:crypto (the SDK has no run-time dependency).
 */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/** The RFC 8032 §7.1 test-1 seed: the §15 vector's agent key, the test host's default. */
export const TEST1_SEED = Uint8Array.from(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'))

export interface X402Options {
  readonly allowedRecipients: readonly string[]
  readonly maxPaymentMicrocents: bigint
}

/** `capabilities.x402.options` as the node reads them (an absent or empty list allows nothing). */
export function x402Options(options: Record<string, unknown> | undefined): X402Options {
  const list = Array.isArray(options?.allowed_recipients) ? options.allowed_recipients : []
  const max = options?.max_payment_microcents
  return {
    allowedRecipients: list.filter((r): r is string => typeof r === 'string'),
    maxPaymentMicrocents: typeof max === 'number' || typeof max === 'bigint' ? BigInt(max) : 0n
  }
}

export class AgentKey {
  readonly publicKey: Uint8Array
  private readonly key: KeyObject
  constructor(seed: Uint8Array) {
    if (seed.length !== 32) throw new RangeError(`an agent seed is 32 bytes, got ${seed.length}`)
    this.key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' })
    this.publicKey = new Uint8Array(createPublicKey(this.key).export({ format: 'der', type: 'spki' }).subarray(12))
  }

  sign(data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, data, this.key))
  }
}

/** The receipt bytes, signed by `key`. */
export function walletPayReceipt(amount: bigint, timestampNs: bigint, recipient: Uint8Array, memo: Uint8Array, key: AgentKey): Uint8Array {
  const out = new Uint8Array(120 + recipient.length + memo.length)
  const view = new DataView(out.buffer)
  view.setBigInt64(0, BigInt.asIntN(64, amount), true)
  view.setBigInt64(8, BigInt.asIntN(64, timestampNs), true)
  view.setUint32(16, recipient.length, true)
  out.set(recipient, 20)
  let pos = 20 + recipient.length
  view.setUint32(pos, memo.length, true)
  out.set(memo, pos + 4)
  pos += 4 + memo.length
  out.set(key.publicKey, pos)
  pos += 32
  out.set(key.sign(out.subarray(0, pos)), pos)
  return out
}
