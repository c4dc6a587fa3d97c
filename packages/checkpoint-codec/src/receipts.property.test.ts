// SPEC §15 receipts, property tests: round trips over the whole value ranges,
// every flipped byte caught, every truncation refused, and nothing but
// ReceiptError escaping the decoders for any input.
import { AgentIdentity } from '@igor/identity'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ReceiptError, decodePayments, decodeReceipt, decodeReceipts, decodeWalletPayReceipt, ed25519PeerId, encodePayments,
  encodeReceipt, encodeReceipts, encodeWalletPayReceipt, signReceipt, signWalletPayReceipt, verifyReceipt,
  verifyWalletPayReceipt
} from './index.js'
import type { PaymentReceipt } from './index.js'

const NODE = AgentIdentity.fromSeed(Uint8Array.from(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')))
const PEER_ID = ed25519PeerId(NODE.publicKey)
const sign = (data: Uint8Array): Uint8Array => NODE.sign(data)

const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n
const I64_MIN = -(1n << 63n)
const u64 = fc.oneof(fc.constantFrom(0n, 1n, (1n << 53n) + 1n, I64_MAX, U64_MAX), fc.bigInt({ min: 0n, max: U64_MAX }))
const i64 = fc.oneof(fc.constantFrom(0n, -1n, (1n << 53n) + 1n, I64_MAX, I64_MIN), fc.bigInt({ min: I64_MIN, max: I64_MAX }))
// Any well-formed Unicode, up to 1024 UTF-8 bytes.
const id = fc.string({ unit: 'grapheme', maxLength: 40 })
const receiptFields = fc.record({
  agentId: id, nodeId: fc.oneof(fc.constant(PEER_ID), id), epochStart: u64, epochEnd: u64, costMicrocents: i64, budgetAfter: i64, timestampNs: i64
})

/** Runs `fn`; only `ReceiptError` with a one-line message may escape. Returns whether it threw. */
function refusesOrPasses(fn: () => void): boolean {
  try {
    fn()
    return false
  } catch (error) {
    if (!(error instanceof ReceiptError)) throw error
    expect(error.message).not.toMatch(/\n/)
    expect(error.message.length).toBeGreaterThan(0)
    return true
  }
}

function flipEveryBit(bytes: Uint8Array, caught: (mutated: Uint8Array) => boolean): void {
  for (let i = 0; i < bytes.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const mutated = Uint8Array.from(bytes)
      mutated[i] = (mutated[i] as number) ^ (1 << bit)
      if (!caught(mutated)) throw new Error(`flipping bit ${bit} of byte ${i} went unnoticed`)
    }
  }
}

const receiptCaught = (bytes: Uint8Array): boolean => {
  let decoded: PaymentReceipt | undefined
  if (refusesOrPasses(() => { decoded = decodeReceipt(bytes) })) return true
  return decoded !== undefined && !verifyReceipt(decoded).ok
}

describe('receipt round trips', () => {
  it('decode ∘ encode is the identity over the full u64/i64 ranges and any Unicode ids', () => {
    fc.assert(fc.property(receiptFields, (fields) => {
      const receipt = signReceipt(fields, sign)
      const bytes = encodeReceipt(receipt)
      expect(decodeReceipt(bytes)).toEqual(receipt)
      expect(verifyReceipt(decodeReceipt(bytes)).ok).toBe(fields.nodeId === PEER_ID)
    }), { numRuns: 300 })
  })

  it('blobs round-trip', () => {
    fc.assert(fc.property(fc.array(receiptFields, { maxLength: 5 }), (list) => {
      const receipts = list.map((f) => signReceipt(f, sign))
      expect(decodeReceipts(encodeReceipts(receipts))).toEqual(receipts)
    }), { numRuns: 100 })
  })

  it('wallet_pay receipts round-trip, binary memos included', () => {
    const payment = fc.record({
      amount: i64, timestampNs: i64, recipient: fc.string({ unit: 'grapheme', maxLength: 20 }), memo: fc.uint8Array({ maxLength: 512 })
    })
    fc.assert(fc.property(fc.array(payment, { maxLength: 4 }), (list) => {
      const payments = list.map((f) => signWalletPayReceipt(f, NODE))
      const back = decodePayments(encodePayments(payments))
      expect(back).toEqual(payments)
      expect(back.every((p) => verifyWalletPayReceipt(p, NODE.publicKey).ok)).toBe(true)
    }), { numRuns: 100 })
  })
})

describe('every single flipped bit is caught', () => {
  const receipt = signReceipt({
    agentId: 'survivor', nodeId: PEER_ID, epochStart: 1n, epochEnd: 5n, costMicrocents: 5000n, budgetAfter: 995_000n, timestampNs: 1_700_000_000_123_456_789n
  }, sign)
  const second = signReceipt({ ...receipt, epochStart: 6n, epochEnd: 10n, costMicrocents: 4200n, budgetAfter: 990_800n }, sign)

  it('in a receipt: decoding refuses it or verification fails', () => {
    flipEveryBit(encodeReceipt(receipt), receiptCaught)
  })

  it('in a receipts blob: decoding refuses it or some receipt fails verification', () => {
    flipEveryBit(encodeReceipts([receipt, second]), (blob) => {
      let list: PaymentReceipt[] = []
      if (refusesOrPasses(() => { list = decodeReceipts(blob) })) return true
      return list.some((r) => !verifyReceipt(r).ok)
    })
  })

  it('in a wallet_pay receipt (checked against the agent key)', () => {
    const payment = encodeWalletPayReceipt(signWalletPayReceipt({
      amount: 100_000n, timestampNs: 1_700_000_000_123_456_789n, recipient: 'paywall-provider', memo: new TextEncoder().encode('premium-data-access')
    }, NODE))
    flipEveryBit(payment, (bytes) => {
      let ok = false
      if (refusesOrPasses(() => { ok = verifyWalletPayReceipt(decodeWalletPayReceipt(bytes), NODE.publicKey).ok })) return true
      return !ok
    })
  })

  it('any byte replaced by any value', () => {
    const bytes = encodeReceipt(receipt)
    fc.assert(fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const mutated = Uint8Array.from(bytes)
      mutated[at] = (mutated[at] as number) ^ xor
      expect(receiptCaught(mutated)).toBe(true)
    }), { numRuns: 1000 })
  })
})

describe('truncation and garbage', () => {
  const blob = encodeReceipts([
    signReceipt({ agentId: 'a', nodeId: PEER_ID, epochStart: 1n, epochEnd: 2n, costMicrocents: 3n, budgetAfter: 4n, timestampNs: 5n }, sign),
    signReceipt({ agentId: 'a', nodeId: PEER_ID, epochStart: 3n, epochEnd: 4n, costMicrocents: 3n, budgetAfter: 1n, timestampNs: 6n }, sign)
  ])
  const payments = encodePayments([signWalletPayReceipt({ amount: 1n, timestampNs: 2n, recipient: 'r', memo: new Uint8Array(3) }, NODE)])

  it('every proper prefix of a blob is refused with a reason', () => {
    for (let cut = 0; cut < blob.length; cut++) expect(refusesOrPasses(() => decodeReceipts(blob.subarray(0, cut)))).toBe(true)
    for (let cut = 0; cut < payments.length; cut++) expect(refusesOrPasses(() => decodePayments(payments.subarray(0, cut)))).toBe(true)
  })

  it('random bytes raise nothing but ReceiptError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      refusesOrPasses(() => decodeReceipts(bytes))
      refusesOrPasses(() => decodePayments(bytes))
      refusesOrPasses(() => decodeReceipt(bytes))
      refusesOrPasses(() => decodeWalletPayReceipt(bytes))
    }), { numRuns: 3000 })
  })

  it('mutated and cut blobs raise nothing but ReceiptError, and what decodes verifies or not without throwing', () => {
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(blob.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.nat(blob.length + 8)
    })
    fc.assert(fc.property(mutation, ({ flips, cut }) => {
      const bytes = new Uint8Array(cut)
      bytes.set(blob.subarray(0, Math.min(cut, blob.length)))
      for (const [at, value] of flips) if (at < cut) bytes[at] = value
      refusesOrPasses(() => { for (const r of decodeReceipts(bytes)) expect(typeof verifyReceipt(r).ok).toBe('boolean') })
    }), { numRuns: 3000 })
  })
})
