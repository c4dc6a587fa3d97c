// SPEC §15 wallet_pay conservation at every crash point: the sidecar written before the checkpoint,
// `.payments` after it, and what a restart (`openPayments`) makes of each combination left on disk;
// the receipt repair leaves the payments the checkpoint holds out of the cost.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { signReceipt, signWalletPayReceipt, encodeWalletPayReceipt } from '@igor/checkpoint-codec'
import { AgentIdentity } from '@igor/identity'
import { recordingLogger, tempDir } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { repairReceipts } from '../receipts/repair.js'
import { seedSigner } from '../receipts/test-signer.js'
import type { PaymentLog} from './log.js';
import { beginPayments, openPayments } from './log.js'
import { decodePayments } from './codec.js'
import { checkArrivalPayments } from './arrival.js'
import { RunnerError } from '../errors.js'

const AGENT = AgentIdentity.fromSeed(new Uint8Array(32).fill(7))
const pay = (amount: bigint, memo = ''): Uint8Array =>
  encodeWalletPayReceipt(signWalletPayReceipt({ amount, timestampNs: 1n, recipient: 'shop', memo: new TextEncoder().encode(memo) }, AGENT))

let dir: { path: string, remove: () => Promise<void> }
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await dir.remove() })

const file = async (name: string): Promise<Uint8Array | null> => readFile(join(dir.path, name)).then((b) => new Uint8Array(b), () => null)

/** A log with one committed payment (100) and one made after the durable checkpoint (tick 4, budget 900): 250. */
async function paidAfterCheckpoint(): Promise<PaymentLog> {
  const log = await beginPayments(dir.path, 'a', [pay(100n)])
  await log.record(pay(250n), { tick: 4n, budget: 900n })
  return log
}

describe('payments log crash points (SPEC §15)', () => {
  it('normal run: record (sidecar) → checkpoint → commit → settle leaves `.payments` with both and no sidecar', async () => {
    const log = await paidAfterCheckpoint()
    expect(await file('a.payments.pending')).not.toBeNull()
    expect(log.pendingTotal()).toBe(250n)
    expect(await log.commit()).toBe(250n)
    await log.settle()
    expect(decodePayments((await file('a.payments'))!).length).toBe(2)
    expect(await file('a.payments.pending')).toBeNull()
    expect(decodePayments(log.blob()).length).toBe(2)
  })

  it('killed before the next checkpoint: the payment is durable; the restart takes it off the budget and logs it', async () => {
    await paidAfterCheckpoint()
    const { payments, unreflected, cut } = await openPayments(dir.path, 'a', { tick: 4n, budget: 900n }, recordingLogger())
    expect([cut, unreflected, payments.count]).toEqual([250n, 250n, 2])
    expect(decodePayments((await file('a.payments'))!).map((r) => new DataView(r.buffer, r.byteOffset).getBigInt64(0, true))).toEqual([100n, 250n])
    // Killed again before the restart checkpoint: the same payment is cut again (it is still not in the budget), never added twice.
    const again = await openPayments(dir.path, 'a', { tick: 4n, budget: 900n }, recordingLogger())
    expect([again.cut, again.payments.count]).toEqual([250n, 2])
    // The restart checkpoint (tick 4, budget 650) is durable, then killed before the sidecar went: nothing more is cut.
    const after = await openPayments(dir.path, 'a', { tick: 4n, budget: 650n }, recordingLogger())
    expect([after.cut, after.unreflected, after.payments.count]).toEqual([0n, 250n, 2])
    await after.payments.settle()
    expect(await file('a.payments.pending')).toBeNull()
  })

  it('killed after the checkpoint, before `.payments`: the checkpoint holds them, they are added, nothing cut', async () => {
    await paidAfterCheckpoint()
    const { payments, unreflected, cut } = await openPayments(dir.path, 'a', { tick: 6n, budget: 600n }, recordingLogger())
    expect([cut, unreflected, payments.count]).toEqual([0n, 250n, 2])
    expect(await file('a.payments.pending')).not.toBeNull()
    await payments.settle()
    expect(await file('a.payments.pending')).toBeNull()
  })

  it('killed after `.payments`, before the receipts or the sidecar removal: nothing added twice', async () => {
    const log = await paidAfterCheckpoint()
    await log.commit()
    const { payments, unreflected, cut } = await openPayments(dir.path, 'a', { tick: 6n, budget: 600n }, recordingLogger())
    expect([cut, unreflected, payments.count]).toEqual([0n, 250n, 2])
  })

  it('a `.payments` that does not decode is kept as .corrupt; a garbled sidecar is dropped', async () => {
    await writeFile(join(dir.path, 'a.payments'), Buffer.from('ffffffff', 'hex'))
    await writeFile(join(dir.path, 'a.payments.pending'), Buffer.from('01', 'hex'))
    const logger = recordingLogger()
    const { payments, unreflected } = await openPayments(dir.path, 'a', { tick: 5n, budget: 1n }, logger)
    expect([payments.count, unreflected]).toEqual([0, 0n])
    expect(await file('a.payments.corrupt')).not.toBeNull()
  })

  it('the receipt repair leaves unreflected payments out of the cost (behind its checkpoint)', () => {
    const signer = seedSigner()
    // Open receipt: ticks 1…3, cost 30, budget after 970 (stay began at 1000). The checkpoint at tick 5
    // has budget 700: 20 more compute and a payment of 250 the receipt does not hold.
    const open = signReceipt({ agentId: 'a', nodeId: signer.nodeId, epochStart: 1n, epochEnd: 3n, costMicrocents: 30n, budgetAfter: 970n, timestampNs: 1n }, (d) => signer.sign(d))
    const repaired = repairReceipts([open], { tick: 5n, budget: 700n }, signer, 2n, 250n)
    expect(repaired.action).toBe('behind')
    expect(repaired.receipts[0]).toMatchObject({ epochEnd: 5n, costMicrocents: 50n, budgetAfter: 700n })
    // Without the payments it would have been charged as cost.
    expect(repairReceipts([open], { tick: 5n, budget: 700n }, signer, 2n).receipts[0]!.costMicrocents).toBe(300n)
  })
})

describe('Package.Payments on arrival (SPEC §15)', () => {
  const blob = (...receipts: Uint8Array[]): Uint8Array => {
    const out = Buffer.alloc(4 + receipts.reduce((n, r) => n + 4 + r.length, 0))
    out.writeUInt32LE(receipts.length, 0)
    let pos = 4
    for (const r of receipts) { out.writeUInt32LE(r.length, pos); out.set(r, pos + 4); pos += 4 + r.length }
    return new Uint8Array(out)
  }
  const refused = (fn: () => unknown): RunnerError => {
    try { fn() } catch (error) { expect(error).toBeInstanceOf(RunnerError); return error as RunnerError }
    throw new Error('expected a refusal')
  }

  it('kept when every payment is signed by the agent\'s key; none for an absent or empty field', () => {
    expect(checkArrivalPayments('a', blob(pay(1n), pay(2n, 'x')), AGENT.publicKey)).toHaveLength(2)
    expect(checkArrivalPayments('a', undefined, AGENT.publicKey)).toEqual([])
    expect(checkArrivalPayments('a', new Uint8Array(0), null)).toEqual([])
  })

  it('refuses a tampered amount, another key, garbled and huge blobs, with PAYMENTS_INVALID and a reason', () => {
    const good = pay(100n)
    const tampered = good.slice()
    tampered[0] = 0x65
    expect(refused(() => checkArrivalPayments('a', blob(tampered), AGENT.publicKey)).message).toMatch(/^Package.Payments of a: payment 0 \(101 to "shop"\): signature does not verify/)
    const other = AgentIdentity.fromSeed(new Uint8Array(32).fill(9))
    expect(refused(() => checkArrivalPayments('a', blob(good), other.publicKey)).message).toContain('not the agent\'s key')
    expect(refused(() => checkArrivalPayments('a', Uint8Array.from([1, 0, 0, 0, 9, 0, 0, 0, 1]), null)).code).toBe('PAYMENTS_INVALID')
    const huge = new Uint8Array(8)
    new DataView(huge.buffer).setUint32(0, 0xffff_ffff, true)
    expect(refused(() => checkArrivalPayments('a', huge, null)).message).toContain('entries, at most')
    const negative = encodeWalletPayReceipt(signWalletPayReceipt({ amount: -5n, timestampNs: 1n, recipient: 'shop', memo: new Uint8Array(0) }, AGENT))
    expect(refused(() => checkArrivalPayments('a', blob(negative), AGENT.publicKey)).message).toContain('amount -5 is not positive')
  })
})
