// SPEC §15 audit: a valid chain over two nodes, a tampered byte, overlapping
// and backward tick ranges, a conservation mismatch, and the renderings.
import {
  CheckpointError, GENESIS_PREV_HASH, ReceiptError, ed25519PeerId, encodeCheckpoint, encodePayments, encodeReceipts, encodeSignedCheckpoint,
  signReceipt, signWalletPayReceipt
} from '@igor/checkpoint-codec'
import type { PaymentReceipt, PaymentReceiptFields, WalletPayReceipt } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import { AuditInputError, auditReceipts, renderReceiptAuditJson, renderReceiptAuditText } from '../index.js'

const NODE_A = AgentIdentity.fromSeed(Uint8Array.from(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')))
const NODE_B = AgentIdentity.fromSeed(new Uint8Array(32).fill(7))
const AGENT = AgentIdentity.fromSeed(new Uint8Array(32).fill(9))
const A = ed25519PeerId(NODE_A.publicKey)
const B = ed25519PeerId(NODE_B.publicKey)
const T0 = 1_700_000_000_000_000_000n
const INITIAL = 1_000_000n

function receipt(node: AgentIdentity, fields: Omit<PaymentReceiptFields, 'agentId' | 'nodeId'>): PaymentReceipt {
  return signReceipt({ agentId: 'survivor', nodeId: ed25519PeerId(node.publicKey), ...fields }, (data) => node.sign(data))
}

// Ticks 1…5 on A, 6…10 on B (a payment of 300 there), 11…12 back on A.
const R0 = receipt(NODE_A, { epochStart: 1n, epochEnd: 5n, costMicrocents: 5000n, budgetAfter: 995_000n, timestampNs: T0 })
const R1 = receipt(NODE_B, { epochStart: 6n, epochEnd: 10n, costMicrocents: 4200n, budgetAfter: 990_500n, timestampNs: T0 + 5_000_000_000n })
const R2 = receipt(NODE_A, { epochStart: 11n, epochEnd: 12n, costMicrocents: 2000n, budgetAfter: 988_500n, timestampNs: T0 + 7_000_000_000n })
const PAY: WalletPayReceipt = signWalletPayReceipt(
  { amount: 300n, timestampNs: T0 + 3_000_000_000n, recipient: 'paywall-provider', memo: new TextEncoder().encode('item 1') }, AGENT
)
const FINAL = INITIAL - 5000n - 4200n - 2000n - 300n

function checkpointWith(budget: bigint, tickNumber = 12n, signed = true): Uint8Array {
  const input = {
    budget, pricePerSecond: 1000n, tickNumber, wasmHash: new Uint8Array(32), epoch: new Epoch(3n, 0n), leaseExpiry: 0n, state: Uint8Array.of(1)
  }
  return signed ? encodeSignedCheckpoint(input, GENESIS_PREV_HASH, AGENT) : encodeCheckpoint(input)
}

const valid = {
  receipts: encodeReceipts([R0, R1, R2]),
  payments: encodePayments([PAY]),
  checkpoint: checkpointWith(FINAL)
}

describe('auditReceipts: a valid chain', () => {
  it('verifies every signature, sums per node and checks conservation (initial budget from the first receipt)', () => {
    const audit = auditReceipts(valid)
    expect(audit.problems).toEqual([])
    expect(audit.valid).toBe(true)
    expect(audit.agentId).toBe('survivor')
    expect(audit.receipts.map((r) => [r.nodeId, r.epochStart, r.epochEnd, r.signatureValid])).toEqual([
      [A, 1n, 5n, true], [B, 6n, 10n, true], [A, 11n, 12n, true]
    ])
    expect(audit.nodes).toEqual([{ nodeId: A, receipts: 2, costMicrocents: 7000n }, { nodeId: B, receipts: 1, costMicrocents: 4200n }])
    expect([audit.charged, audit.paid]).toEqual([11_200n, 300n])
    expect(audit.conservation).toEqual({
      initialBudget: INITIAL, initialBudgetSource: 'first receipt', charged: 11_200n, paid: 300n,
      expectedBudget: FINAL, checkpointBudget: FINAL, ok: true
    })
    expect(audit.payments[0]?.signatureValid).toBe(true)
  })

  it('renders the text report with the SPEC verdict line', () => {
    const text = renderReceiptAuditText(auditReceipts(valid))
    expect(text).toContain(`  [1] ticks 6→10  cost 4200  budget after 990500  at 2023-11-14T22:13:25Z  node ${B}  signature VALID\n`)
    expect(text).toContain(`  ${A}  2 receipts  charged 7000\n`)
    expect(text).toContain('  [0] 300 to "paywall-provider"  memo "item 1"  at 2023-11-14T22:13:23Z  signature VALID\n')
    expect(text).toContain(`Conservation:     1000000 initial (from the first receipt) − 11200 charged − 300 paid = ${FINAL}; checkpoint budget ${FINAL}: OK\n`)
    expect(text.endsWith('\nReceipts: VALID (3 receipts from 2 nodes, charged 11200, paid 300)\n')).toBe(true)
  })

  it('a given initial budget is used as given', () => {
    const audit = auditReceipts({ ...valid, initialBudget: INITIAL })
    expect(audit.conservation?.initialBudgetSource).toBe('given')
    expect(audit.valid).toBe(true)
    expect(auditReceipts({ ...valid, initialBudget: INITIAL + 1n }).problems).toEqual([
      `conservation: initial budget 1000001 − charged 11200 − paid 300 = ${FINAL + 1n}, but the checkpoint's budget is ${FINAL}`
    ])
  })

  it('without a checkpoint, conservation is not checked; without receipts, nothing is charged', () => {
    const audit = auditReceipts({ receipts: valid.receipts })
    expect(audit.conservation?.ok).toBeNull()
    // No payments given: the budget fell 300 between receipt 0 and 1 that nothing explains.
    expect(audit.problems).toEqual(['receipts: the budget fell 300 more than the receipts charged between receipt 0 and receipt 2, but payments total 0'])
    const empty = auditReceipts({ receipts: encodeReceipts([]) })
    expect(empty.valid).toBe(true)
    expect(empty.conservation).toBeNull()
    expect(renderReceiptAuditText(empty)).toContain('Receipts: VALID (0 receipts from 0 nodes, charged 0, paid 0)\n')
  })

  it('a payment before the first receipt counts toward the derived initial budget', () => {
    const early = signWalletPayReceipt({ amount: 700n, timestampNs: T0 - 1n, recipient: 'r', memo: new Uint8Array(0) }, AGENT)
    const r0 = receipt(NODE_A, { epochStart: 1n, epochEnd: 5n, costMicrocents: 5000n, budgetAfter: 994_300n, timestampNs: T0 })
    const audit = auditReceipts({ receipts: encodeReceipts([r0]), payments: encodePayments([early]), checkpoint: checkpointWith(994_300n, 5n) })
    expect(audit.conservation?.initialBudget).toBe(INITIAL)
    expect(audit.valid).toBe(true)
  })
})

describe('auditReceipts: INVALID, one line per problem', () => {
  it('a tampered byte in a receipt', () => {
    const blob = Uint8Array.from(valid.receipts)
    // Receipt 1 starts after the count, entry 0 (its length and bytes) and its own length; its cost after the ids and ticks.
    const r1 = 4 + (blob.length - 4) / 3 + 4
    const costAt = r1 + 4 + 8 + 4 + B.length + 16
    blob[costAt] = (blob[costAt] as number) ^ 1
    const audit = auditReceipts({ ...valid, receipts: blob })
    expect(audit.valid).toBe(false)
    expect(audit.receipts[1]?.costMicrocents).toBe(4201n)
    expect(audit.problems).toContain(`receipt 1 (ticks 6…10): signature does not verify with the key of node ${B}`)
    const text = renderReceiptAuditText(audit)
    expect(text).toContain(`signature INVALID\n`)
    expect(text).toMatch(/\nReceipts: INVALID\n {2}- receipt 1 \(ticks 6…10\): signature does not verify/)
  })

  it('overlapping and backward tick ranges', () => {
    const overlap = receipt(NODE_B, { epochStart: 4n, epochEnd: 8n, costMicrocents: 0n, budgetAfter: 995_000n, timestampNs: T0 + 1n })
    const back = receipt(NODE_B, { epochStart: 9n, epochEnd: 7n, costMicrocents: 0n, budgetAfter: 995_000n, timestampNs: T0 + 1n })
    const before = receipt(NODE_A, { epochStart: 1n, epochEnd: 2n, costMicrocents: 0n, budgetAfter: 988_500n, timestampNs: T0 + 9n })
    expect(auditReceipts({ receipts: encodeReceipts([R0, overlap]) }).problems).toEqual(['receipt 1: ticks 4…8 overlap receipt 0 (ticks 1…5)'])
    expect(auditReceipts({ receipts: encodeReceipts([R0, back]) }).problems).toEqual(['receipt 1: ticks 9…7 go backwards'])
    expect(auditReceipts({ receipts: encodeReceipts([R0, R1, R2, before]) }).problems).toContain(
      'receipt 3: ticks 1…2 go backwards from receipt 2 (ticks 11…12)'
    )
  })

  it('an empty receipt (no ticks since the last, nothing charged: the reference signs one per checkpoint) is accepted', () => {
    const empty = receipt(NODE_A, { epochStart: 6n, epochEnd: 5n, costMicrocents: 0n, budgetAfter: 995_000n, timestampNs: T0 + 1n })
    expect(auditReceipts({ receipts: encodeReceipts([R0, empty]) }).problems).toEqual([])
    const charging = receipt(NODE_A, { epochStart: 6n, epochEnd: 5n, costMicrocents: 1n, budgetAfter: 994_999n, timestampNs: T0 + 1n })
    expect(auditReceipts({ receipts: encodeReceipts([R0, charging]) }).problems).toEqual(['receipt 1: ticks 6…5 go backwards'])
    const inside = receipt(NODE_A, { epochStart: 5n, epochEnd: 4n, costMicrocents: 0n, budgetAfter: 995_000n, timestampNs: T0 + 1n })
    expect(auditReceipts({ receipts: encodeReceipts([R0, inside]) }).problems).toEqual(['receipt 1: ticks 5…4 overlap receipt 0 (ticks 1…5)'])
  })

  it('a conservation mismatch against the checkpoint', () => {
    const audit = auditReceipts({ ...valid, checkpoint: checkpointWith(FINAL - 1n) })
    expect(audit.problems).toEqual([
      `conservation: initial budget 1000000 − charged 11200 − paid 300 = ${FINAL}, but the checkpoint's budget is ${FINAL - 1n}`
    ])
    expect(renderReceiptAuditText(audit)).toContain(`checkpoint budget ${FINAL - 1n}: MISMATCH\n`)
  })

  it('a budget that rises, a receipt past the checkpoint, a payment by another key, a bad checkpoint signature', () => {
    const rises = receipt(NODE_B, { epochStart: 6n, epochEnd: 10n, costMicrocents: 4200n, budgetAfter: 999_000n, timestampNs: T0 + 1n })
    expect(auditReceipts({ receipts: encodeReceipts([R0, rises]) }).problems).toEqual([
      'receipt 1: budget rose: receipt 0 left 995000, this one charged 4200 and left 999000'
    ])
    expect(auditReceipts({ ...valid, checkpoint: checkpointWith(FINAL, 11n) }).problems).toEqual([
      "receipt 2: ticks up to 12, past the checkpoint's tick 11"
    ])
    const stranger = signWalletPayReceipt({ amount: 300n, timestampNs: PAY.timestampNs, recipient: 'x', memo: new Uint8Array(0) }, NODE_B)
    const foreign = auditReceipts({ ...valid, payments: encodePayments([stranger]) })
    expect(foreign.problems).toEqual([
      `payment 0 (300 to "x"): signed by key ${Buffer.from(NODE_B.publicKey).toString('hex').slice(0, 16)}…, not the agent's key ${AGENT.publicKeyHex.slice(0, 16)}…`
    ])
    const ckpt = checkpointWith(FINAL)
    ckpt[ckpt.length - 1] = 2 // the state byte, under the signature
    expect(auditReceipts({ ...valid, checkpoint: ckpt }).problems).toEqual(['checkpoint: INVALID signature'])
    // An unsigned v0x03 checkpoint has nothing to verify.
    expect(auditReceipts({ ...valid, checkpoint: checkpointWith(FINAL, 12n, false) }).valid).toBe(true)
  })

  it('a receipt for another agent, a negative cost, a non-positive payment', () => {
    const other = signReceipt({ ...R1, agentId: 'someone-else', costMicrocents: -1n, budgetAfter: 995_001n }, (d) => NODE_B.sign(d))
    const zero = signWalletPayReceipt({ amount: 0n, timestampNs: T0, recipient: 'r', memo: new Uint8Array(0) }, AGENT)
    expect(auditReceipts({ receipts: encodeReceipts([R0, other]), payments: encodePayments([zero]) }).problems).toEqual([
      'receipt 1: agent "someone-else", but receipt 0 is for "survivor"',
      'receipt 1: negative cost -1',
      'payment 0: amount 0 is not positive'
    ])
  })

  it('bytes that do not decode are an AuditInputError naming the input, not a report', () => {
    const thrown = (input: Parameters<typeof auditReceipts>[0]): AuditInputError => {
      try {
        auditReceipts(input)
      } catch (error) {
        expect(error).toBeInstanceOf(AuditInputError)
        return error as AuditInputError
      }
      throw new Error('no error')
    }
    const receipts = thrown({ receipts: Uint8Array.of(1, 0, 0, 0, 9) })
    expect([receipts.code, receipts.input, receipts.message]).toEqual(['BAD_RECEIPTS', 'receipts', 'receipts blob says 1 entries but 5 bytes hold at most 0'])
    expect(receipts.cause).toBeInstanceOf(ReceiptError)
    const payments = thrown({ receipts: valid.receipts, payments: Uint8Array.of(1) })
    expect([payments.code, payments.message]).toEqual(['BAD_PAYMENTS', 'payments blob truncated at count: need 4 bytes, have 1'])
    const checkpoint = thrown({ receipts: valid.receipts, checkpoint: Uint8Array.of(7) })
    expect([checkpoint.code, checkpoint.input]).toEqual(['BAD_CHECKPOINT', 'checkpoint'])
    expect(checkpoint.cause).toBeInstanceOf(CheckpointError)
  })
})

describe('renderReceiptAuditJson', () => {
  it('carries every fact, 64-bit values as exact decimal strings', () => {
    const big = receipt(NODE_A, {
      epochStart: (1n << 53n) + 1n, epochEnd: (1n << 64n) - 1n, costMicrocents: 0n, budgetAfter: (1n << 63n) - 1n, timestampNs: -(1n << 63n)
    })
    const json = JSON.parse(renderReceiptAuditJson(auditReceipts({ receipts: encodeReceipts([big]) })))
    expect(json.valid).toBe(true)
    expect(json.receipts[0]).toMatchObject({
      epochStart: '9007199254740993', epochEnd: '18446744073709551615', budgetAfter: '9223372036854775807',
      timestampNs: '-9223372036854775808', time: '1677-09-21T00:12:43.145224192Z', signatureValid: true, signatureProblem: null
    })
    expect(json.conservation).toMatchObject({ initialBudget: '9223372036854775807', initialBudgetSource: 'first receipt', ok: null })
    const full = JSON.parse(renderReceiptAuditJson(auditReceipts(valid)))
    expect(full.nodes).toEqual([{ nodeId: A, receipts: 2, costMicrocents: '7000' }, { nodeId: B, receipts: 1, costMicrocents: '4200' }])
    expect(full.payments[0]).toMatchObject({ amount: '300', recipient: 'paywall-provider', memo: 'item 1', memoHex: '6974656d2031', signatureValid: true })
    expect(full.checkpoint).toEqual({ tickNumber: '12', budget: FINAL.toString(), signatureValid: true })
    expect(full.problems).toEqual([])
  })
})
