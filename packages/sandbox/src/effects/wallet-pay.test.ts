// SPEC §15 `wallet_pay`: the node's part of the order, one test per answer, and the receipt vector.
import { describe, expect, it } from 'vitest'
import { parseManifest } from '../manifest/manifest.js'
import type { X402Options } from '../manifest/x402-options.js'
import { performWalletPay, signWalletPay, walletPayReceiptLength } from './wallet-pay.js'
import type { WalletPayCall, WalletPayContext } from './wallet-pay.js'
import { TEST1_AGENT, VECTOR_TS, WALLET_PAY_VECTOR } from './wallet-pay.test-helper.js'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const OPTIONS: X402Options = { allowedRecipients: ['paywall-provider'], maxPaymentMicrocents: 200_000n }
const CALL: WalletPayCall = { amount: 100_000n, recipient: utf8('paywall-provider'), memo: utf8('premium-data-access'), receiptCap: 159 }

function context(overrides: Partial<WalletPayContext> & { budget?: () => bigint } = {}): WalletPayContext & { charged: bigint[], receipts: Uint8Array[] } {
  const charged: bigint[] = []
  const receipts: Uint8Array[] = []
  return {
    options: OPTIONS, isOwner: () => true, budget: () => 1_000_000n, signer: TEST1_AGENT, nowNs: () => VECTOR_TS,
    paid: (amount, receipt) => { charged.push(amount); receipts.push(receipt) },
    ...overrides, charged, receipts
  }
}

describe('performWalletPay (SPEC §15 order, node side)', () => {
  it('success: the 155-byte vector receipt, charged once', () => {
    const ctx = context()
    const answer = performWalletPay(CALL, ctx)
    expect(answer.ok).toBe(true)
    if (!answer.ok) return
    expect(Buffer.from(answer.receipt).toString('hex')).toBe(WALLET_PAY_VECTOR)
    expect(answer.receipt.byteLength).toBe(155)
    expect(walletPayReceiptLength(16, 19)).toBe(155)
    expect(ctx.charged).toEqual([100_000n])
    expect(ctx.receipts[0]).toEqual(answer.receipt)
  })

  const rows: Array<[string, Partial<WalletPayCall>, Partial<WalletPayContext>, number, number?]> = [
    ['amount 0 → −6', { amount: 0n }, {}, -6],
    ['amount −1 → −6', { amount: -1n }, {}, -6],
    ['amount over max_payment_microcents → −4', { amount: 200_001n }, {}, -4],
    ['recipient not in the list → −3', { recipient: utf8('someone-else') }, {}, -3],
    ['recipient that differs only in case → −3', { recipient: utf8('Paywall-Provider') }, {}, -3],
    ['recipient not UTF-8 → −3', { recipient: hex('ff') }, {}, -3],
    ['empty allow-list → −3', {}, { options: { allowedRecipients: [], maxPaymentMicrocents: 0n } }, -3],
    ['receipt_cap 158 → −5 with hint 155', { receiptCap: 158 }, {}, -5, 155],
    ['receipt_cap 0 → −5 (hint given, the worker writes it only when cap ≥ 4)', { receiptCap: 0 }, {}, -5, 155],
    ['not the live owner → −6', {}, { isOwner: () => false }, -6],
    ['budget below the amount → −1', {}, { budget: () => 99_999n }, -1],
    ['no agent key → −1', {}, { signer: null }, -1]
  ]
  for (const [name, call, ctxOverrides, code, hint] of rows) {
    it(`${name}, nothing charged`, () => {
      const ctx = context(ctxOverrides)
      const answer = performWalletPay({ ...CALL, ...call }, ctx)
      expect(answer).toEqual(hint === undefined ? { ok: false, code } : { ok: false, code, hint })
      expect(ctx.charged).toEqual([])
    })
  }

  it('max_payment_microcents 0 caps nothing but the budget; amount = budget is allowed', () => {
    const ctx = context({ options: { ...OPTIONS, maxPaymentMicrocents: 0n }, budget: () => (1n << 63n) - 1n })
    expect(performWalletPay({ ...CALL, amount: (1n << 63n) - 1n }, ctx).ok).toBe(true)
    expect(ctx.charged).toEqual([(1n << 63n) - 1n])
    const exact = context({ budget: () => 100_000n })
    expect(performWalletPay(CALL, exact).ok).toBe(true)
  })

  it('the order: −4 before −3 before −5 before the gate before −1', () => {
    const worst = context({ isOwner: () => false, budget: () => 0n })
    expect(performWalletPay({ ...CALL, amount: 300_000n, recipient: utf8('x'), receiptCap: 0 }, worst)).toEqual({ ok: false, code: -4 })
    expect(performWalletPay({ ...CALL, recipient: utf8('x'), receiptCap: 0 }, worst)).toEqual({ ok: false, code: -3 })
    expect(performWalletPay({ ...CALL, receiptCap: 0 }, worst)).toEqual({ ok: false, code: -5, hint: 155 })
    expect(performWalletPay(CALL, worst)).toEqual({ ok: false, code: -6 })
  })

  it('signWalletPay: an empty memo and a 256-byte recipient', () => {
    const receipt = signWalletPay({ amount: 1n, timestampNs: 0n, recipient: new Uint8Array(256).fill(0x61), memo: new Uint8Array(0) }, TEST1_AGENT)
    expect(receipt.byteLength).toBe(120 + 256)
  })

  it('the manifest reads x402 options; absent options allow nothing', () => {
    const m = parseManifest('{"capabilities": {"x402": {"version": 1, "options": {"allowed_recipients": ["a", "b", "a"], "max_payment_microcents": 9223372036854775807}}}}', { source: 'm.json' })
    expect(m.x402).toEqual({ allowedRecipients: ['a', 'b'], maxPaymentMicrocents: (1n << 63n) - 1n })
    expect(parseManifest('{"capabilities": {"x402": {"version": 1}}}', { source: 'm.json' }).x402).toEqual({ allowedRecipients: [], maxPaymentMicrocents: 0n })
    expect(parseManifest('{"capabilities": {"clock": {"version": 1}}}', { source: 'm.json' }).x402).toBeNull()
  })

  const bad: Array<[string, string]> = [
    ['"options": 5', 'capabilities.x402.options must be an object (got 5)'],
    ['"options": {"allowed_recipients": "a"}', 'capabilities.x402.options.allowed_recipients must be an array of strings (got "a")'],
    ['"options": {"allowed_recipients": [1]}', 'capabilities.x402.options.allowed_recipients[0] must be a string (got 1)'],
    ['"options": {"allowed_recipients": [""]}', 'capabilities.x402.options.allowed_recipients[0] must be 1 … 256 bytes (got 0)'],
    [`"options": {"allowed_recipients": ["${'a'.repeat(257)}"]}`, 'capabilities.x402.options.allowed_recipients[0] must be 1 … 256 bytes (got 257)'],
    ['"options": {"max_payment_microcents": -1}', 'capabilities.x402.options.max_payment_microcents must be an integer in 0 … 9223372036854775807 (got -1)'],
    ['"options": {"max_payment_microcents": 9223372036854775808}', 'max_payment_microcents must be an integer in 0 … 9223372036854775807 (got 9223372036854775808)'],
    ['"options": {"max_payment_microcents": 1.5}', 'max_payment_microcents must be an integer'],
    ['"version": 2', 'capabilities.x402.version 2 is not supported']
  ]
  for (const [options, message] of bad) {
    it(`the manifest refuses ${options} with MANIFEST_INVALID`, () => {
      const text = `{"capabilities": {"x402": {${options.startsWith('"version"') ? options : `"version": 1, ${options}`}}}}`
      expect(() => parseManifest(text, { source: 'm.json' })).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID', message: expect.stringContaining(message) as string }))
    })
  }
})
