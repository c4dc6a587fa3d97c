// SPEC §15 wallet_pay: the receipt vector (signed by the agent's key) and its bounds.
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import {
  ReceiptError, decodePayments, decodeWalletPayReceipt, encodePayments, encodeWalletPayReceipt, signWalletPayReceipt,
  verifyWalletPayReceipt, walletPaySignData
} from './index.js'
import type { WalletPayFields } from './index.js'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

// RFC 8032 §7.1 TEST 1 key, here as the AGENT's key.
const AGENT = AgentIdentity.fromSeed(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
const FIELDS: WalletPayFields = {
  amount: 100_000n, timestampNs: 1_700_000_000_123_456_789n, recipient: 'paywall-provider', memo: utf8('premium-data-access')
}
const VECTOR =
  'a08601000000000015cd853dfe9c97171000000070617977616c6c2d70726f7669646572130000007072656d69756d2d646174612d616363657373d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511abe20726282c1947e5f66101ad3524d9666fad5334546ac354002d84ba466a4621cf1e4c30107728fd6ec28d0a900c4a82b30a961d43cd598e460b12ee2600d02'

describe('SPEC §15 wallet_pay receipt vector', () => {
  it('encodes to the 155-byte vector (the hostcall returns 4 + 155 = 159)', () => {
    const receipt = signWalletPayReceipt(FIELDS, AGENT)
    const bytes = encodeWalletPayReceipt(receipt)
    expect(bytes.length).toBe(155)
    expect(4 + bytes.length).toBe(159)
    expect(toHex(bytes)).toBe(VECTOR)
    // The signature covers every byte before it.
    expect(toHex(walletPaySignData(receipt))).toBe(VECTOR.slice(0, (155 - 64) * 2))
    expect(verifyWalletPayReceipt(receipt)).toEqual({ ok: true })
    expect(verifyWalletPayReceipt(receipt, AGENT.publicKey)).toEqual({ ok: true })
  })

  it('decodes the vector and verifies it', () => {
    const r = decodeWalletPayReceipt(hex(VECTOR))
    expect([r.amount, r.timestampNs, r.recipient, new TextDecoder().decode(r.memo)]).toEqual([100_000n, 1_700_000_000_123_456_789n, 'paywall-provider', 'premium-data-access'])
    expect(toHex(r.agentPubKey)).toBe(AGENT.publicKeyHex)
    expect(verifyWalletPayReceipt(r)).toEqual({ ok: true })
    expect(encodeWalletPayReceipt(r)).toEqual(hex(VECTOR))
  })

  it('the payments blob frames it like receipts', () => {
    const blob = encodePayments([decodeWalletPayReceipt(hex(VECTOR))])
    expect(toHex(blob)).toBe(`010000009b000000${VECTOR}`)
    expect(decodePayments(blob)).toHaveLength(1)
    expect(() => decodePayments(blob, { maxCount: 0 })).toThrow(expect.objectContaining({ code: 'TOO_MANY' }))
  })
})

describe('wallet_pay receipt refusals', () => {
  const good = signWalletPayReceipt(FIELDS, AGENT)

  it('verification names a tampered amount, a foreign key, a bad signature', () => {
    expect(verifyWalletPayReceipt({ ...good, amount: 1n }).ok).toBe(false)
    const other = AgentIdentity.generate()
    const check = verifyWalletPayReceipt(good, other.publicKey)
    expect(check).toEqual({ ok: false, reason: `signed by key d75a980182b10ab7…, not the agent's key ${other.publicKeyHex.slice(0, 16)}…` })
    // Signed honestly by another key: its own signature verifies, but it is not the agent's.
    const foreign = signWalletPayReceipt(FIELDS, other)
    expect(verifyWalletPayReceipt(foreign).ok).toBe(true)
    expect(verifyWalletPayReceipt(foreign, AGENT.publicKey).ok).toBe(false)
  })

  it('a binary memo round-trips as bytes', () => {
    const r = signWalletPayReceipt({ ...FIELDS, memo: Uint8Array.of(0xff, 0, 0xfe) }, AGENT)
    const back = decodeWalletPayReceipt(encodeWalletPayReceipt(r))
    expect(back.memo).toEqual(Uint8Array.of(0xff, 0, 0xfe))
    expect(verifyWalletPayReceipt(back).ok).toBe(true)
  })

  const bytes = hex(VECTOR)
  const withU32 = (at: number, value: number): Uint8Array => {
    const copy = Uint8Array.from(bytes)
    new DataView(copy.buffer).setUint32(at, value, true)
    return copy
  }
  it.each([
    ['a recipient over 256 bytes', withU32(16, 257), 'TOO_LONG', /recipient is 257 bytes, at most 256/],
    ['a memo over 512 bytes', withU32(36, 513), 'TOO_LONG', /memo is 513 bytes, at most 512/],
    ['a memo past the end', withU32(36, 200), 'TRUNCATED', /truncated at memo: need 200 bytes/],
    ['a cut signature', bytes.subarray(0, 150), 'TRUNCATED', /truncated at signature: need 64 bytes, have 59/],
    ['trailing bytes', Uint8Array.from([...bytes, 9]), 'TRAILING_BYTES', /1 trailing bytes/],
    ['nothing', new Uint8Array(0), 'TRUNCATED', /truncated at amount/]
  ])('%s', (_, input, code, message) => {
    let caught: unknown
    try {
      decodeWalletPayReceipt(input)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ReceiptError)
    expect((caught as ReceiptError).code).toBe(code)
    expect((caught as ReceiptError).message).toMatch(message)
  })

  it('encode refuses what decode would refuse', () => {
    expect(() => signWalletPayReceipt({ ...FIELDS, recipient: 'r'.repeat(257) }, AGENT)).toThrow(expect.objectContaining({ code: 'TOO_LONG' }))
    expect(() => signWalletPayReceipt({ ...FIELDS, memo: new Uint8Array(513) }, AGENT)).toThrow(expect.objectContaining({ code: 'TOO_LONG' }))
    expect(() => encodeWalletPayReceipt({ ...good, signature: new Uint8Array(1) })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE_LENGTH' }))
    expect(() => encodeWalletPayReceipt({ ...good, agentPubKey: new Uint8Array(31) })).toThrow(RangeError)
  })
})
