// SPEC §15 one open receipt per stay: re-signed at each charging checkpoint, sealed on leaving, on the
// span and on restart; the file beside the checkpoint always holds the list.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeReceipts, receiptChainProblems, verifyReceipt } from '@igor/checkpoint-codec'
import { silentLogger } from '@igor/sandbox'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ReceiptBook } from './book.js'
import { beginStay } from './stay.js'
import { seedSigner } from './test-signer.js'

const A = seedSigner()
let dir = ''
let now = 1_000n
const options = (spanNs = 1_000_000n): Parameters<typeof ReceiptBook.begin>[0] =>
  ({ dir, agentId: 'survivor', signer: A, spanNs, nowNs: () => now, log: silentLogger })
const onDisk = (): ReturnType<typeof decodeReceipts> => decodeReceipts(readFileSync(join(dir, 'survivor.receipts')))

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'igor-receipts-'))
  now = 1_000n
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('ReceiptBook', () => {
  it('a new stay is an empty open receipt on disk before the first tick', async () => {
    const { book } = await ReceiptBook.begin(options(), [], { tick: 0n, budget: 1_000_000n })
    expect(onDisk()).toMatchObject([{ epochStart: 1n, epochEnd: 0n, costMicrocents: 0n, budgetAfter: 1_000_000n }])
    expect(book.canCharge(0n)).toBe(false)
    expect(book.canCharge(1n)).toBe(true)
  })

  it('re-signs the one open receipt at each checkpoint that charged, not at one that did not', async () => {
    const { book } = await ReceiptBook.begin(options(), [], { tick: 0n, budget: 1000n })
    now += 1n
    expect(await book.checkpointed({ tick: 5n, budget: 950n })).toBe(true)
    now += 1n
    expect(await book.checkpointed({ tick: 9n, budget: 910n })).toBe(true)
    expect(await book.checkpointed({ tick: 9n, budget: 910n })).toBe(false)
    const list = onDisk()
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ epochStart: 1n, epochEnd: 9n, costMicrocents: 90n, budgetAfter: 910n, timestampNs: 1_002n })
    expect(verifyReceipt(list[0]!).ok).toBe(true)
    // A charge at the same tick (a shutdown checkpoint's copy time) goes on the open receipt.
    await book.checkpointed({ tick: 9n, budget: 905n })
    expect(onDisk()[0]).toMatchObject({ epochEnd: 9n, costMicrocents: 95n })
  })

  it('a periodic checkpoint re-signs in memory and writes the file at most every writeEveryNs; the file is only ever behind', async () => {
    const { book } = await ReceiptBook.begin({ ...options(1_000_000n), writeEveryNs: 100n }, [], { tick: 0n, budget: 1000n })
    now += 10n
    expect(await book.checkpointed({ tick: 5n, budget: 950n }, 0n, true)).toBe(false)
    // wallet_receipt sees the re-signed receipt; the file still holds the stay's start (behind, never ahead)
    expect(decodeReceipts(book.blob())).toMatchObject([{ epochEnd: 5n, costMicrocents: 50n, budgetAfter: 950n }])
    expect(onDisk()).toMatchObject([{ epochStart: 1n, epochEnd: 0n, costMicrocents: 0n, budgetAfter: 1000n }])
    expect(book.behindOnDisk).toBe(true)
    now += 100n
    expect(await book.checkpointed({ tick: 9n, budget: 910n }, 0n, true)).toBe(true)
    expect(onDisk()).toMatchObject([{ epochEnd: 9n, costMicrocents: 90n, budgetAfter: 910n }])
    expect(book.behindOnDisk).toBe(false)
    // a checkpoint with payments, a non-periodic one, and a flush are written at once
    now += 1n
    expect(await book.checkpointed({ tick: 10n, budget: 800n }, 100n, true)).toBe(true)
    expect(onDisk()[0]).toMatchObject({ epochEnd: 10n, costMicrocents: 100n, budgetAfter: 800n })
    now += 1n
    expect(await book.checkpointed({ tick: 11n, budget: 790n })).toBe(true)
    expect(onDisk()[0]).toMatchObject({ epochEnd: 11n, budgetAfter: 790n })
    now += 1n
    expect(await book.checkpointed({ tick: 12n, budget: 780n }, 0n, true)).toBe(false)
    expect(await book.flushIfBehind()).toBe(true)
    expect(await book.flushIfBehind()).toBe(false)
    expect(onDisk()[0]).toMatchObject({ epochEnd: 12n, budgetAfter: 780n })
    expect(receiptChainProblems(onDisk(), 0n)).toEqual([])
  })

  it('a receipt sealed by its span is written at once, periodic or not', async () => {
    const { book } = await ReceiptBook.begin({ ...options(50n), writeEveryNs: 1_000n }, [], { tick: 0n, budget: 1000n })
    now += 60n
    expect(await book.checkpointed({ tick: 5n, budget: 950n }, 0n, true)).toBe(true)
    expect(onDisk()).toHaveLength(2)
  })

  it('writeEveryNs 0: every periodic checkpoint writes', async () => {
    const { book } = await ReceiptBook.begin({ ...options(), writeEveryNs: 0n }, [], { tick: 0n, budget: 1000n })
    now += 1n
    expect(await book.checkpointed({ tick: 5n, budget: 950n }, 0n, true)).toBe(true)
    expect(onDisk()[0]).toMatchObject({ epochEnd: 5n })
  })

  it('does not sign a charge before the stay ran a tick', async () => {
    const { book } = await ReceiptBook.begin(options(), [], { tick: 3n, budget: 1000n })
    expect(await book.checkpointed({ tick: 3n, budget: 990n })).toBe(false)
    expect(onDisk()).toMatchObject([{ epochStart: 4n, epochEnd: 3n, costMicrocents: 0n }])
  })

  it('seals on the span and opens the next receipt at the sealing checkpoint', async () => {
    const { book } = await ReceiptBook.begin(options(100n), [], { tick: 0n, budget: 1000n })
    now += 50n
    await book.checkpointed({ tick: 5n, budget: 950n })
    now += 50n
    await book.checkpointed({ tick: 10n, budget: 900n })
    now += 10n
    await book.checkpointed({ tick: 12n, budget: 880n })
    const list = onDisk()
    expect(list).toMatchObject([
      { epochStart: 1n, epochEnd: 10n, costMicrocents: 100n, budgetAfter: 900n },
      { epochStart: 11n, epochEnd: 12n, costMicrocents: 20n, budgetAfter: 880n }
    ])
    expect(receiptChainProblems(list, 0n)).toEqual([])
  })

  it('seals on leaving; the blob sent holds the sealed receipts only; a stay that goes on starts anew', async () => {
    const { book } = await ReceiptBook.begin(options(), [], { tick: 0n, budget: 1000n })
    await book.checkpointed({ tick: 5n, budget: 950n })
    const sent = decodeReceipts(await book.seal({ tick: 6n, budget: 940n }))
    expect(sent).toMatchObject([{ epochStart: 1n, epochEnd: 6n, costMicrocents: 60n, budgetAfter: 940n }])
    await book.checkpointed({ tick: 8n, budget: 920n }) // the hand-off was refused: the agent stays
    expect(onDisk()).toMatchObject([{ epochEnd: 6n }, { epochStart: 7n, epochEnd: 8n, costMicrocents: 20n }])
  })

  it('a restart seals the open receipt (repaired) and begins a new stay; an empty one is dropped', async () => {
    const { book } = await ReceiptBook.begin(options(), [], { tick: 0n, budget: 1000n })
    await book.checkpointed({ tick: 5n, budget: 950n })
    // Killed after the checkpoint at tick 9 was written, before the receipts were.
    const again = await beginStay(options(), 'disk', { tick: 9n, budget: 910n })
    expect(onDisk()).toMatchObject([
      { epochStart: 1n, epochEnd: 9n, costMicrocents: 90n, budgetAfter: 910n },
      { epochStart: 10n, epochEnd: 9n, costMicrocents: 0n, budgetAfter: 910n }
    ])
    expect(again.canCharge(9n)).toBe(false)
    // Restarted again before a tick: the empty start receipt is replaced, not piled up.
    await beginStay(options(), 'disk', { tick: 9n, budget: 910n })
    expect(onDisk()).toHaveLength(2)
    expect(receiptChainProblems(onDisk(), 0n)).toEqual([])
  })

  it('a file that does not decode is kept aside and a new list begins', async () => {
    writeFileSync(join(dir, 'survivor.receipts'), Buffer.from('garbage'))
    await beginStay(options(), 'disk', { tick: 4n, budget: 500n })
    expect(readFileSync(join(dir, 'survivor.receipts.corrupt'), 'utf8')).toBe('garbage')
    expect(onDisk()).toMatchObject([{ epochStart: 5n, epochEnd: 4n, budgetAfter: 500n }])
  })
})
