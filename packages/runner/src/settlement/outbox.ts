// SPEC §15 settlement outbox: nothing lost across kill -9. Each receipt to deliver is a file
// `<dataDir>/settlement/outbox/<agentId>/<epochStart>-<epochEnd>.json` (20-digit, so names sort by
// ticks), written atomically BEFORE its POST is attempted and removed after a 2xx. The same receipt
// written twice is the same file. `<dataDir>/settlement/delivered/<agentId>.json` remembers the last
// receipt delivered, written before its outbox file is removed, so a restart neither loses nor resends.
import { mkdir, readFile, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeReceipt, encodeReceipt } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import type { Logger } from '@igor/sandbox'
import { fsyncDirectory, removeStaleTemporaries, writeFileAtomic } from '../store/atomic-write.js'
import { validateAgentId } from '../store/agent-id.js'

export interface OutboxEntry {
  readonly receipt: PaymentReceipt
  /** Wall-clock ms when it was written (the settlement lag is measured from here, across restarts). */
  readonly enqueuedAtMs: number
  readonly file: string
}

/** The last receipt delivered for an agent: its tick range. */
export interface Delivered {
  readonly epochStart: bigint
  readonly epochEnd: bigint
}

const pad = (n: bigint): string => n.toString().padStart(20, '0')
const ENTRY = /^(\d{20})-(\d{20})\.json$/

export class Outbox {
  readonly root: string
  private readonly outbox: string
  private readonly delivered: string

  constructor(dataDir: string, private readonly log: Logger) {
    this.root = join(dataDir, 'settlement')
    this.outbox = join(this.root, 'outbox')
    this.delivered = join(this.root, 'delivered')
  }

  async open(): Promise<void> {
    await mkdir(this.outbox, { recursive: true, mode: 0o700 })
    await mkdir(this.delivered, { recursive: true, mode: 0o700 })
  }

  /** Writes the receipt's entry (atomic; the same receipt range replaces its file). */
  async put(receipt: PaymentReceipt, enqueuedAtMs: number): Promise<OutboxEntry> {
    const dir = join(this.outbox, validateAgentId(receipt.agentId))
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const file = `${pad(receipt.epochStart)}-${pad(receipt.epochEnd)}.json`
    const text = JSON.stringify({ v: 1, enqueuedAtMs, receipt: Buffer.from(encodeReceipt(receipt)).toString('base64') })
    await writeFileAtomic(dir, file, Buffer.from(text))
    return { receipt, enqueuedAtMs, file }
  }

  /** Every agent's waiting entries, oldest ticks first; entries already delivered are removed, unreadable ones set aside. */
  async load(): Promise<Map<string, OutboxEntry[]>> {
    const out = new Map<string, OutboxEntry[]>()
    for (const agentId of await readdir(this.outbox).catch(() => [] as string[])) {
      const dir = join(this.outbox, agentId)
      const last = await this.lastDelivered(agentId)
      await removeStaleTemporaries(dir).catch(() => []) // a write cut by a crash; its receipt is offered again at the stay's start
      const entries: OutboxEntry[] = []
      for (const file of (await readdir(dir).catch(() => [] as string[])).filter((f) => ENTRY.test(f)).sort()) {
        try {
          const parsed = JSON.parse(await readFile(join(dir, file), 'utf8')) as { enqueuedAtMs: number, receipt: string }
          const receipt = decodeReceipt(Buffer.from(parsed.receipt, 'base64'))
          if (receipt.agentId !== agentId) throw new Error(`holds a receipt of ${receipt.agentId}`)
          if (last !== null && receipt.epochEnd <= last.epochEnd) {
            await this.unlinkEntry(agentId, file) // delivered just before the crash that kept it
            continue
          }
          entries.push({ receipt, enqueuedAtMs: Number(parsed.enqueuedAtMs) || Date.now(), file })
        } catch (error) {
          this.log.error({ agentId, file }, `settlement outbox entry unreadable (${(error as Error).message}); left in place, not sent`)
        }
      }
      if (entries.length > 0) out.set(agentId, entries)
    }
    return out
  }

  /** After a 2xx: the delivery remembered, then the entry removed. */
  async done(entry: OutboxEntry): Promise<void> {
    const { agentId, epochStart, epochEnd } = entry.receipt
    await writeFileAtomic(this.delivered, `${agentId}.json`, Buffer.from(JSON.stringify({ epochStart: epochStart.toString(), epochEnd: epochEnd.toString() })))
    await this.unlinkEntry(agentId, entry.file)
  }

  async lastDelivered(agentId: string): Promise<Delivered | null> {
    try {
      const parsed = JSON.parse(await readFile(join(this.delivered, `${validateAgentId(agentId)}.json`), 'utf8')) as { epochStart: string, epochEnd: string }
      return { epochStart: BigInt(parsed.epochStart), epochEnd: BigInt(parsed.epochEnd) }
    } catch {
      return null
    }
  }

  /** Forgets the agent's delivery mark (its ticks went back: a new agent under a reused id). */
  async forget(agentId: string): Promise<void> {
    await unlink(join(this.delivered, `${validateAgentId(agentId)}.json`)).catch(() => undefined)
  }

  private async unlinkEntry(agentId: string, file: string): Promise<void> {
    const dir = join(this.outbox, agentId)
    await unlink(join(dir, file)).catch((error: NodeJS.ErrnoException) => { if (error.code !== 'ENOENT') throw error })
    await fsyncDirectory(dir)
  }
}
