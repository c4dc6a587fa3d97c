// SPEC §15 receipts: what the open receipt per stay costs a checkpoint, and how the list grows.
// - re-sign: building and signing the open receipt again, against a bare Ed25519 sign of the same
//   signData (the floor: the receipt's own bytes add only framing);
// - per checkpoint: `ReceiptBook.checkpointed` (re-sign + encode the list + atomic write with fsync)
//   against a raw write+fsync+rename of the same bytes, interleaved;
// - list size after 10 000 checkpoints at the 5 s cadence (a fake clock; the default 1 h span seals
//   one receipt an hour), against the reference's one receipt per checkpoint.
import { mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519PeerId, encodeReceipts, receiptSignData, signReceipt } from '@igor/checkpoint-codec'
import { AgentIdentity } from '@igor/identity'
import { DEFAULT_RECEIPT_SPAN_NS, ReceiptBook, silentLogger } from '@igor/runner'

export const name = 'receipts'

const identity = AgentIdentity.fromSeed(new Uint8Array(32).fill(5))
const signer = { nodeId: ed25519PeerId(identity.publicKey), sign: (data) => identity.sign(data) }
const CADENCE_NS = 5_000_000_000n

async function rawDurableWrite(dir, name, bytes) {
  const tmp = join(dir, `${name}.tmp`)
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, join(dir, name))
}

/** A book on a fake clock that moves 5 s per checkpoint; each checkpoint runs 5 ticks at 1000 µ¢/s. */
async function bookAt(dir, agentId) {
  let now = 1_700_000_000_000_000_000n
  let tick = 0n
  let budget = 1_000_000_000_000n
  const { book } = await ReceiptBook.begin({ dir, agentId, signer, spanNs: DEFAULT_RECEIPT_SPAN_NS, nowNs: () => now, log: silentLogger }, [], { tick, budget })
  return {
    book,
    next: () => {
      now += CADENCE_NS
      tick += 5n
      budget -= 5_000n
      return book.checkpointed({ tick, budget })
    }
  }
}

export async function run(ctx) {
  const dir = await mkdtemp(join(process.env.IGOR_BENCH_DIR ?? tmpdir(), 'igor-bench-receipts-'))
  const rows = []
  try {
    ctx.log('receipts: re-sign vs bare Ed25519 sign')
    const fields = { agentId: 'bench-agent', nodeId: signer.nodeId, epochStart: 1n, epochEnd: 10n, costMicrocents: 10_000n, budgetAfter: 990_000n, timestampNs: 1_700_000_000_000_000_000n }
    const data = receiptSignData(fields)
    const sign = await ctx.measureAll({ resign: () => signReceipt(fields, signer.sign), bare: () => identity.sign(data) })
    rows.push(ctx.entry('receipts bare Ed25519 sign', sign.bare.medianNs / 1000, 'µs/op'))
    rows.push(ctx.entry('receipts re-sign open receipt', sign.resign.medianNs / 1000, 'µs/op', { ratio: ctx.pairedRatio(sign.resign, sign.bare), note: 'ratio against a bare sign of the same signData' }))

    ctx.log('receipts: ReceiptBook.checkpointed vs raw write+fsync+rename of the same bytes')
    const { book, next } = await bookAt(dir, 'bench-cost')
    const blob = book.blob()
    const per = await ctx.measureAll({ book: () => next(), raw: () => rawDurableWrite(dir, 'raw.receipts', blob) }, { minTimeMs: ctx.quick ? 300 : 1500 })
    rows.push(ctx.entry('receipts raw write+fsync+rename', per.raw.medianNs / 1e6, 'ms/op', { note: `${blob.length} bytes` }))
    rows.push(ctx.entry('receipts cost per checkpoint', per.book.medianNs / 1e6, 'ms/op', { ratio: ctx.pairedRatio(per.book, per.raw), note: 're-sign + encode + atomic write; ratio against the raw durable write' }))

    const n = 10_000
    ctx.log(`receipts: list size after ${n} checkpoints at the 5 s cadence`)
    const grown = await bookAt(dir, 'bench-size')
    for (let i = 0; i < n; i++) await grown.next()
    const ours = grown.book.blob().length
    // The reference signs one receipt per checkpoint and keeps them all.
    const one = encodeReceipts([signReceipt(fields, signer.sign)]).length - 4
    const reference = 4 + n * one
    rows.push(ctx.entry(`receipts list size after ${n} checkpoints`, ours, 'bytes', { note: `${grown.book.list().length} receipts (1 h span over ${(n * 5 / 3600).toFixed(1)} h); the reference's one receipt per checkpoint would be ${reference} bytes (${Math.round(reference / ours)}× more)` }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return rows
}
