// SPEC §15 `Package.Receipts` on arrival: hostile lists are refused with a one-line reason.
import { encodeReceipt, encodeReceipts, signReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { describe, expect, it } from 'vitest'
import { RunnerError } from '../errors.js'
import { checkArrivalReceipts } from './arrival.js'
import { seedSigner } from './test-signer.js'

const A = seedSigner()
const B = seedSigner(new Uint8Array(32).fill(7))
const T = 1_700_000_000_000_000_000n
const r = (signer = A, epochStart: bigint, epochEnd: bigint, cost: bigint, after: bigint, agentId = 'survivor', nodeId = signer.nodeId): PaymentReceipt =>
  signReceipt({ agentId, nodeId, epochStart, epochEnd, costMicrocents: cost, budgetAfter: after, timestampNs: T }, (d) => signer.sign(d))
const CHECKPOINT = { budget: 940n, tickNumber: 6n }
const refusal = (blob: Uint8Array, checkpoint = CHECKPOINT): string => {
  try {
    checkArrivalReceipts('survivor', blob, checkpoint)
  } catch (error) {
    expect(error).toBeInstanceOf(RunnerError)
    expect((error as RunnerError).code).toBe('RECEIPTS_INVALID')
    expect((error as Error).message).not.toContain('\n')
    return (error as Error).message
  }
  throw new Error('not refused')
}

describe('checkArrivalReceipts', () => {
  it('keeps a sound list from two nodes; none is none', () => {
    const list = [r(A, 1n, 3n, 30n, 970n), r(B, 4n, 6n, 30n, 940n)]
    expect(checkArrivalReceipts('survivor', encodeReceipts(list), CHECKPOINT)).toHaveLength(2)
    expect(checkArrivalReceipts('survivor', undefined, CHECKPOINT)).toEqual([])
    expect(checkArrivalReceipts('survivor', new Uint8Array(0), CHECKPOINT)).toEqual([])
  })

  it('refuses garbled and huge blobs before reading them', () => {
    expect(refusal(Buffer.from('garbage!'))).toMatch(/^Package\.Receipts of survivor: /)
    const huge = Buffer.alloc(8)
    huge.writeUInt32LE(0xffffffff, 0)
    expect(refusal(huge)).toMatch(/Package\.Receipts of survivor: .*/)
  })

  it('refuses a tampered receipt and one signed by a key that is not its peer id', () => {
    const good = r(B, 4n, 6n, 30n, 940n)
    const tampered = encodeReceipt(good)
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    const blob = Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.from(new Uint32Array([tampered.length]).buffer), tampered])
    expect(refusal(blob)).toMatch(/receipt 0 \(ticks 4…6\): /)
    expect(refusal(encodeReceipts([r(A, 4n, 6n, 30n, 940n, 'survivor', B.nodeId)]))).toMatch(/receipt 0 \(ticks 4…6\): /)
  })

  it('refuses another agent\'s receipt, overlapping ticks, a last budget below the package\'s, ticks past the checkpoint', () => {
    expect(refusal(encodeReceipts([r(A, 1n, 6n, 60n, 940n, 'other')]))).toContain('receipt 0 is for agent "other"')
    expect(refusal(encodeReceipts([r(A, 1n, 4n, 40n, 960n), r(B, 4n, 6n, 20n, 940n)]))).toContain('overlap')
    expect(refusal(encodeReceipts([r(A, 1n, 6n, 70n, 930n)]))).toContain('below the package\'s budget 940')
    expect(refusal(encodeReceipts([r(A, 1n, 7n, 60n, 940n)]))).toContain('past the checkpoint\'s tick 6')
  })
})
