// SPEC §15 receipts: the vectors, exactly as the SPEC gives them.
import { createHash } from 'node:crypto'
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import {
  ReceiptError, decodeReceipt, decodeReceipts, ed25519PeerId, encodeReceipt, encodeReceipts, peerIdPublicKey, receiptSignData,
  signReceipt, verifyReceipt
} from './index.js'
import type { PaymentReceiptFields } from './index.js'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'))
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

// RFC 8032 §7.1 TEST 1 key (SPEC §12): the node key of the vector.
const NODE_KEY = AgentIdentity.fromSeed(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
const PEER_ID = '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV'

const FIRST: PaymentReceiptFields = {
  agentId: 'survivor', nodeId: PEER_ID, epochStart: 1n, epochEnd: 5n,
  costMicrocents: 5000n, budgetAfter: 995_000n, timestampNs: 1_700_000_000_123_456_789n
}
const SECOND: PaymentReceiptFields = {
  ...FIRST, epochStart: 6n, epochEnd: 10n, costMicrocents: 4200n, budgetAfter: 990_800n, timestampNs: 1_700_000_005_123_456_789n
}
const SIGN_DATA =
  '080000007375727669766f7234000000313244334b6f6f57514b31776e65666f4c7263564862626e6635744c7a626f705564334b336246416f4a704137594a674c357056010000000000000005000000000000008813000000000000b82e0f000000000015cd853dfe9c9717'
const SIGNATURE =
  '32fd6653ccf5ebfef3cb68c9c30cb4f98fffb7525ad2d799a0ef1d82a47fcf5d6107592ed4c24af879ed1d26daa4165e1eaa0164ce037f4d59ed300bb7291703'
const BLOB_SHA256 = 'a5ae459b406261153f180f2717c3d524f7105cfd7c6b08efb9c30e157ee02f2e'

const sign = (data: Uint8Array): Uint8Array => NODE_KEY.sign(data)

describe('SPEC §15 receipt vector', () => {
  it('derives the vector peer id from the RFC 8032 test-1 key, and back', () => {
    expect(ed25519PeerId(NODE_KEY.publicKey)).toBe(PEER_ID)
    expect(toHex(peerIdPublicKey(PEER_ID))).toBe(NODE_KEY.publicKeyHex)
  })

  it('signData, signature and the 176-byte receipt', () => {
    expect(toHex(receiptSignData(FIRST))).toBe(SIGN_DATA)
    const receipt = signReceipt(FIRST, sign)
    expect(toHex(receipt.signature)).toBe(SIGNATURE)
    const bytes = encodeReceipt(receipt)
    expect(bytes.length).toBe(176)
    // Written from the layout, not by the encoder: signData ‖ u32 64 ‖ signature.
    expect(toHex(bytes)).toBe(`${SIGN_DATA}40000000${SIGNATURE}`)
    expect(verifyReceipt(receipt)).toEqual({ ok: true })
    const decoded = decodeReceipt(bytes)
    expect(decoded).toEqual(receipt)
    expect(verifyReceipt(decoded)).toEqual({ ok: true })
  })

  it('the second receipt and the 364-byte two-receipt blob with its SHA-256', () => {
    const second = signReceipt(SECOND, sign)
    const sig = toHex(second.signature)
    expect(sig.startsWith('839270ab')).toBe(true)
    expect(sig.endsWith('73718105')).toBe(true)
    const blob = encodeReceipts([signReceipt(FIRST, sign), second])
    expect(blob.length).toBe(364)
    expect(createHash('sha256').update(blob).digest('hex')).toBe(BLOB_SHA256)
    // Framing from the layout: count 2, then each receipt behind its u32 length 176.
    expect(toHex(blob.subarray(0, 8))).toBe('02000000b0000000')
    expect(toHex(blob.subarray(184, 188))).toBe('b0000000')
    const list = decodeReceipts(blob)
    expect(list.map((r) => [r.epochStart, r.epochEnd, r.costMicrocents, r.budgetAfter])).toEqual([[1n, 5n, 5000n, 995_000n], [6n, 10n, 4200n, 990_800n]])
    expect(list.every((r) => verifyReceipt(r).ok)).toBe(true)
    expect(encodeReceipts(list)).toEqual(blob)
  })

  it('an empty list is the 4-byte count 0', () => {
    expect(toHex(encodeReceipts([]))).toBe('00000000')
    expect(decodeReceipts(hex('00000000'))).toEqual([])
  })
})

describe('receipt verification refuses with a reason', () => {
  const good = signReceipt(FIRST, sign)

  it('a changed field or signature', () => {
    expect(verifyReceipt({ ...good, costMicrocents: 4999n })).toEqual({ ok: false, reason: `signature does not verify with the key of node ${PEER_ID}` })
    const flipped = Uint8Array.from(good.signature)
    flipped[0] = (flipped[0] as number) ^ 1
    expect(verifyReceipt({ ...good, signature: flipped }).ok).toBe(false)
  })

  it('a receipt signed by a key that is not its peer id', () => {
    const other = AgentIdentity.generate()
    const forged = signReceipt(FIRST, (data) => other.sign(data))
    expect(verifyReceipt(forged).ok).toBe(false)
    // Signed by the other key and naming it: valid.
    const honest = signReceipt({ ...FIRST, nodeId: ed25519PeerId(other.publicKey) }, (data) => other.sign(data))
    expect(verifyReceipt(honest)).toEqual({ ok: true })
  })

  it.each([
    ['an RSA (SHA-256) peer id', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', /SHA-256 hash of its key/],
    ['a secp256k1 peer id', '16Uiu2HAkwSgJLfnRgRhpi2qo9ucUwuRqSTvx1xjQmHy4SwV3BPvB', /secp256k1 key; only Ed25519/],
    ['text that is not base58', '12D3KooW0OIl', /not base58btc/],
    ['an empty node id', '', /peer id is empty/],
    ['a base58 string that is no peer id', '3yZe7d', /not an identity multihash/]
  ])('%s', (_, nodeId, reason) => {
    const r = signReceipt({ ...FIRST, nodeId }, sign)
    const check = verifyReceipt(r)
    expect(check.ok).toBe(false)
    if (!check.ok) expect(check.reason).toMatch(reason)
  })

  it('peerIdPublicKey raises typed errors', () => {
    expect(() => peerIdPublicKey('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_KEY_TYPE' }))
    expect(() => peerIdPublicKey('x'.repeat(500))).toThrow(ReceiptError)
  })
})

describe('decodeReceipt bounds', () => {
  const bytes = encodeReceipt(signReceipt(FIRST, sign))
  const withU32 = (at: number, value: number): Uint8Array => {
    const copy = Uint8Array.from(bytes)
    new DataView(copy.buffer).setUint32(at, value, true)
    return copy
  }
  const refuses = (input: Uint8Array, code: string, message: RegExp): void => {
    let caught: unknown
    try {
      decodeReceipt(input)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ReceiptError)
    expect((caught as ReceiptError).code).toBe(code)
    expect((caught as ReceiptError).message).toMatch(message)
    expect((caught as ReceiptError).message).not.toContain('\n')
  }

  it('a length beyond the input', () => refuses(withU32(0, 0xffffffff), 'TOO_LONG', /agentId is 4294967295 bytes, at most 1024/))
  it('an agent id over 1024 bytes', () => refuses(withU32(0, 1025), 'TOO_LONG', /agentId is 1025 bytes/))
  it('a node id length past the end', () => refuses(withU32(12, 1000), 'TRUNCATED', /truncated at nodeId: need 1000 bytes, have 160/))
  it('sigLen other than 64', () => refuses(withU32(108, 63), 'BAD_SIGNATURE_LENGTH', /sigLen is 63, must be 64/))
  it('trailing bytes', () => refuses(Uint8Array.from([...bytes, 0]), 'TRAILING_BYTES', /1 trailing bytes/))
  it('a cut inside the signature', () => refuses(bytes.subarray(0, 170), 'TRUNCATED', /truncated at signature: need 64 bytes, have 58/))
  it('nothing at all', () => refuses(new Uint8Array(0), 'TRUNCATED', /truncated at agentId length/))
  it('an id that is not UTF-8', () => {
    const copy = Uint8Array.from(bytes)
    copy[4] = 0xff
    refuses(copy, 'INVALID_UTF8', /agentId is not valid UTF-8/)
  })
  it('reads a receipt at a non-zero byteOffset', () => {
    const backing = new Uint8Array(bytes.length + 3)
    backing.set(bytes, 3)
    expect(decodeReceipt(backing.subarray(3))).toEqual(decodeReceipt(bytes))
  })

  it('encode refuses what decode would refuse', () => {
    expect(() => receiptSignData({ ...FIRST, agentId: 'a'.repeat(1025) })).toThrow(expect.objectContaining({ code: 'TOO_LONG' }))
    expect(() => receiptSignData({ ...FIRST, agentId: '\ud800' })).toThrow(expect.objectContaining({ code: 'INVALID_UTF8' }))
    expect(() => encodeReceipt({ ...FIRST, signature: new Uint8Array(63) })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE_LENGTH' }))
    expect(() => signReceipt(FIRST, () => new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE_LENGTH' }))
    expect(() => receiptSignData({ ...FIRST, epochStart: -1n })).toThrow(RangeError)
    expect(() => receiptSignData({ ...FIRST, costMicrocents: 1n << 63n })).toThrow(RangeError)
    expect(() => receiptSignData({ ...FIRST, epochEnd: 5 as unknown as bigint })).toThrow(TypeError)
  })
})

describe('decodeReceipts bounds', () => {
  const blob = encodeReceipts([signReceipt(FIRST, sign), signReceipt(SECOND, sign)])
  const code = (fn: () => unknown): string => {
    try {
      fn()
    } catch (error) {
      expect(error).toBeInstanceOf(ReceiptError)
      return `${(error as ReceiptError).code}: ${(error as ReceiptError).message}`
    }
    return 'ok'
  }

  it('maxCount', () => {
    expect(code(() => decodeReceipts(blob, { maxCount: 1 }))).toBe('TOO_MANY: receipts blob holds 2 entries, at most 1 allowed')
    expect(decodeReceipts(blob, { maxCount: 2 })).toHaveLength(2)
  })
  it('a count the bytes cannot hold is refused before anything is read', () => {
    expect(code(() => decodeReceipts(hex('ffffffff')))).toBe('TRUNCATED: receipts blob says 4294967295 entries but 4 bytes hold at most 0')
  })
  it('under 4 bytes', () => {
    expect(code(() => decodeReceipts(hex('0000')))).toBe('TRUNCATED: receipts blob truncated at count: need 4 bytes, have 2')
  })
  it('an entry cut short names the entry', () => {
    expect(code(() => decodeReceipts(blob.subarray(0, 300)))).toBe('TRUNCATED: receipts entry 1 truncated: need 176 bytes, have 112')
  })
  it('a bad receipt inside names its index', () => {
    const copy = Uint8Array.from(blob)
    copy[188 + 108] = 65 // the second receipt's sigLen
    expect(code(() => decodeReceipts(copy))).toBe('BAD_SIGNATURE_LENGTH: receipt 1: receipt sigLen is 65, must be 64')
  })
  it('trailing bytes after the last entry', () => {
    expect(code(() => decodeReceipts(Uint8Array.from([...blob, 1, 2])))).toBe('TRAILING_BYTES: receipts blob has 2 trailing bytes after 2 entries')
  })
})
