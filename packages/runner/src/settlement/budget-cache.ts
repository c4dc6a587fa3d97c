// SPEC §15 settlement, validation: `GET <url>/budget/<agentId>` at most once every `intervalMs` (10 s)
// per agent, in the background; ticks are answered from the cache. 2xx or 404 = valid; 402 or 403 =
// refused, the reason the body's first line (bounded). Anything else — a network error, a timeout, a
// 3xx (never followed), another status — keeps the last verdict and counts a failure. An agent never
// asked yet is valid (the first answer arrives within one request's time).
import type { Logger } from '@igor/sandbox'
import type { SettlementClock } from './clock.js'
import { firstLine, httpCall } from './http-request.js'
import { BUDGET_VALID, type BudgetVerdict } from './types.js'
import { budgetUrl } from './wire.js'

/** SPEC §15: a budget is asked at most this often per agent. */
export const BUDGET_CHECK_INTERVAL_MS = 10_000

interface Entry {
  verdict: BudgetVerdict
  askedAtMs: number | null
  asking: Promise<void> | null
}

export interface BudgetCacheOptions {
  readonly base: URL
  readonly clock: SettlementClock
  readonly log: Logger
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly onFailure: () => void
}

export class BudgetCache {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly options: BudgetCacheOptions) {}

  /** The cached verdict; starts a background ask when the last one is `intervalMs` old. Never waits. */
  verdict(agentId: string): BudgetVerdict {
    let entry = this.entries.get(agentId)
    if (entry === undefined) {
      entry = { verdict: BUDGET_VALID, askedAtMs: null, asking: null }
      this.entries.set(agentId, entry)
    }
    const now = this.options.clock.nowMs()
    if (entry.asking === null && (entry.askedAtMs === null || now - entry.askedAtMs >= this.options.intervalMs)) {
      entry.askedAtMs = now
      const asked = entry
      // Started after the caller returns: the tick path only reads the cache.
      asked.asking = new Promise<void>((resolve) => { setImmediate(resolve) })
        .then(async () => this.ask(agentId, asked))
        .finally(() => { asked.asking = null })
    }
    return entry.verdict
  }

  /** Resolves when no ask is in flight (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.entries.values()].map(async (e) => e.asking))
  }

  private async ask(agentId: string, entry: Entry): Promise<void> {
    const { base, log, timeoutMs } = this.options
    try {
      const answer = await httpCall(budgetUrl(base, agentId), { method: 'GET', timeoutMs, maxBodyBytes: 4096 })
      const was = entry.verdict
      if ((answer.status >= 200 && answer.status < 300) || answer.status === 404) entry.verdict = BUDGET_VALID
      else if (answer.status === 402 || answer.status === 403) entry.verdict = { valid: false, reason: firstLine(answer.body) || `HTTP ${answer.status}` }
      else throw new Error(`HTTP ${answer.status}`)
      if (was.valid !== entry.verdict.valid) log.info({ agentId, status: answer.status }, entry.verdict.valid ? 'settlement: budget valid' : `settlement: budget refused: ${entry.verdict.reason}`)
    } catch (error) {
      this.options.onFailure()
      log.warn({ agentId }, `settlement: budget check failed (${(error as Error).message}); the last verdict stands`)
    }
  }
}
