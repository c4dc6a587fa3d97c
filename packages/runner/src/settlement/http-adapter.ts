// SPEC §15 settlement, `--settlement-url`: the HTTP budget adapter. Sealed receipts this node signed go
// through the durable outbox (`outbox.ts`) and are POSTed to `<url>/receipts` one at a time per agent,
// oldest ticks first, with `Idempotency-Key: receipt:<agentId>:<epochStart>:<epochEnd>`; a failure
// (transport, timeout, any non-2xx) is retried after a backoff (1 s doubling to 60 s) and holds that
// agent's later receipts behind it. Budgets come from `budget-cache.ts`. Nothing here is awaited by a
// tick: `recordSettlement` queues, `validateBudget` reads the cache.
//
// Open receipts are not POSTed: a re-signed open receipt can change under the same tick range (a
// shutdown's or a renewal's checkpoint charges copy time at the same tick), so one key could name two
// bodies. Only sealed receipts, which never change, are sent: every key names one body, and the server
// sees exactly the receipts `igord receipts` lists. The lag is bounded by `--receipt-span`.
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import type { Logger } from '@igor/sandbox'
import { BUDGET_CHECK_INTERVAL_MS, BudgetCache } from './budget-cache.js'
import { type SettlementClock, systemSettlementClock } from './clock.js'
import { httpCall } from './http-request.js'
import { type Delivered, Outbox, type OutboxEntry } from './outbox.js'
import type { BudgetAdapter, BudgetVerdict, SettlementInfo, SettlementMetrics } from './types.js'
import { idempotencyKey, parseSettlementUrl, receiptBody, receiptsUrl } from './wire.js'

export interface HttpBudgetAdapterOptions {
  /** `--settlement-url` (checked: `SETTLEMENT_URL_INVALID`). */
  readonly url: string
  /** The node's data dir: the outbox lives in `<dataDir>/settlement/`. */
  readonly dataDir: string
  readonly log: Logger
  readonly clock?: SettlementClock
  /** Per request (default 10 s). */
  readonly timeoutMs?: number
  /** Default 10 s (SPEC §15). */
  readonly budgetIntervalMs?: number
  /** First retry delay (default 1 s), doubled per failure up to `maxBackoffMs` (default 60 s). */
  readonly backoffMs?: number
  readonly maxBackoffMs?: number
}

interface AgentQueue {
  entries: OutboxEntry[]
  /** Serializes this agent's outbox writes (the order receipts were told in). */
  chain: Promise<void>
  draining: Promise<void> | null
  cancelRetry: (() => void) | null
  failures: number
  /**
   * An outbox write failed: later receipts of this agent are not queued either (they would be
   * delivered past the lost one and hide it behind the delivery mark); the next stay's start offers
   * the whole list again, in order.
   */
  broken: boolean
}

export class HttpBudgetAdapter implements BudgetAdapter {
  private readonly queues = new Map<string, AgentQueue>()
  private readonly marks = new Map<string, Delivered | null>()
  private readonly budgets: BudgetCache
  private failures = 0
  private delivered = 0
  private closed = false

  private constructor(private readonly base: URL, private readonly outbox: Outbox, private readonly options: HttpBudgetAdapterOptions, private readonly clock: SettlementClock) {
    this.budgets = new BudgetCache({
      base,
      clock,
      log: options.log,
      intervalMs: options.budgetIntervalMs ?? BUDGET_CHECK_INTERVAL_MS,
      timeoutMs: this.timeoutMs,
      onFailure: () => { this.failures++ }
    })
  }

  /** Checks the URL, opens the outbox and starts delivering what a previous run left in it. */
  static async open(options: HttpBudgetAdapterOptions): Promise<HttpBudgetAdapter> {
    const base = parseSettlementUrl(options.url)
    const outbox = new Outbox(options.dataDir, options.log)
    await outbox.open()
    const adapter = new HttpBudgetAdapter(base, outbox, options, options.clock ?? systemSettlementClock)
    const waiting = await outbox.load()
    for (const [agentId, entries] of waiting) {
      adapter.queue(agentId).entries.push(...entries)
      adapter.kick(agentId)
    }
    const count = [...waiting.values()].reduce((n, e) => n + e.length, 0)
    if (count > 0) options.log.info({ receipts: count, agents: waiting.size }, 'settlement: delivering receipts left in the outbox')
    return adapter
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 10_000
  }

  validateBudget(agentId: string): BudgetVerdict {
    return this.budgets.verdict(agentId)
  }

  recordSettlement(receipt: PaymentReceipt, info: SettlementInfo): void {
    if (this.closed) return
    const q = this.queue(receipt.agentId)
    q.chain = q.chain.then(async () => this.record(receipt, info, q)).catch((error: unknown) => {
      // The receipt stays in the receipts file; the next stay's start offers it again.
      q.broken = true
      this.failures++
      this.options.log.error({ agentId: receipt.agentId }, `settlement: could not queue receipt ticks ${receipt.epochStart}…${receipt.epochEnd}: ${(error as Error).message}`)
    })
  }

  private async record(receipt: PaymentReceipt, info: SettlementInfo, q: AgentQueue): Promise<void> {
    const { agentId } = receipt
    if (q.broken) return
    const mark = await this.mark(agentId)
    if (!info.sealed) {
      // An open receipt starting at or before the last delivered tick: the agent's ticks went back
      // (a new agent under a reused id): what was delivered for the old one no longer hides anything.
      if (mark !== null && receipt.epochStart <= mark.epochEnd) {
        await this.outbox.forget(agentId)
        this.marks.set(agentId, null)
      }
      return
    }
    if (mark !== null && receipt.epochEnd <= mark.epochEnd) return // delivered before (a stay's start offers the whole list)
    if (q.entries.some((e) => e.receipt.epochStart === receipt.epochStart && e.receipt.epochEnd === receipt.epochEnd)) return
    q.entries.push(await this.outbox.put(receipt, this.clock.wallMs()))
    this.kick(agentId)
  }

  private async mark(agentId: string): Promise<Delivered | null> {
    if (!this.marks.has(agentId)) this.marks.set(agentId, await this.outbox.lastDelivered(agentId))
    return this.marks.get(agentId) ?? null
  }

  private queue(agentId: string): AgentQueue {
    let q = this.queues.get(agentId)
    if (q === undefined) {
      q = { entries: [], chain: Promise.resolve(), draining: null, cancelRetry: null, failures: 0, broken: false }
      this.queues.set(agentId, q)
    }
    return q
  }

  private kick(agentId: string): void {
    const q = this.queue(agentId)
    if (this.closed || q.draining !== null || q.cancelRetry !== null) return
    q.draining = this.drain(agentId, q).finally(() => { q.draining = null })
  }

  /** Delivers the agent's entries in order; on a failure schedules the retry and stops. */
  private async drain(agentId: string, q: AgentQueue): Promise<void> {
    while (!this.closed && q.entries.length > 0) {
      const entry = q.entries[0] as OutboxEntry
      const failure = await this.post(entry)
      if (failure !== null) {
        this.failures++
        q.failures++
        const delay = Math.min(this.options.maxBackoffMs ?? 60_000, (this.options.backoffMs ?? 1000) * 2 ** Math.min(q.failures - 1, 30))
        this.options.log.warn({ agentId, key: idempotencyKey(entry.receipt), retryInMs: delay }, `settlement: POST failed (${failure}); retrying`)
        q.cancelRetry = this.clock.after(delay, () => {
          q.cancelRetry = null
          this.kick(agentId)
        })
        return
      }
      q.failures = 0
      await this.outbox.done(entry)
      this.marks.set(agentId, { epochStart: entry.receipt.epochStart, epochEnd: entry.receipt.epochEnd })
      q.entries.shift()
      this.delivered++
    }
  }

  /** One POST; null on a 2xx, else why not. */
  private async post(entry: OutboxEntry): Promise<string | null> {
    try {
      const answer = await httpCall(receiptsUrl(this.base), {
        method: 'POST',
        headers: { 'idempotency-key': idempotencyKey(entry.receipt) },
        body: Buffer.from(receiptBody(entry.receipt)),
        timeoutMs: this.timeoutMs,
        maxBodyBytes: 1024
      })
      return answer.status >= 200 && answer.status < 300 ? null : `HTTP ${answer.status}`
    } catch (error) {
      return (error as Error).message
    }
  }

  metrics(): SettlementMetrics {
    let outboxSize = 0
    let oldest = Infinity
    for (const q of this.queues.values()) {
      outboxSize += q.entries.length
      for (const e of q.entries) oldest = Math.min(oldest, e.enqueuedAtMs)
    }
    return { outboxSize, lagMs: outboxSize === 0 ? 0 : Math.max(0, this.clock.wallMs() - oldest), failuresTotal: this.failures, deliveredTotal: this.delivered }
  }

  /** Resolves when every queued write, delivery in progress and budget ask has finished (tests; retries still scheduled stay so). */
  async idle(): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await Promise.all([...this.queues.values()].map(async (q) => { await q.chain; await q.draining }))
      await this.budgets.idle()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const q of this.queues.values()) {
      q.cancelRetry?.()
      q.cancelRetry = null
    }
    await Promise.all([...this.queues.values()].map(async (q) => { await q.chain; await q.draining }))
  }
}
