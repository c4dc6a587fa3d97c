/**
 * `--http-rate <n>` (SPEC §13 "The node's egress policy", ours): at most n
 * requests per agent in any one-second window. Over it the call is answered
 * −4 and nothing is sent. Only requests that would leave count (after the
 * allow-list and the output gate), redirect hops included in their request.
 */

/** SPEC §13: default 20 requests per agent per second. */
export const DEFAULT_HTTP_RATE = 20

const WINDOW_MS = 1_000

export class HttpRateLimiter {
  private readonly sent: number[] = []

  constructor(readonly perSecond: number = DEFAULT_HTTP_RATE, private readonly now: () => number = () => performance.now()) {
    if (!Number.isSafeInteger(perSecond) || perSecond < 1) throw new RangeError(`requests per second must be a whole number ≥ 1, got ${perSecond}`)
  }

  /** True (and counted) when one more request fits in the last second. */
  take(): boolean {
    const now = this.now()
    while (this.sent.length > 0 && now - (this.sent[0] as number) >= WINDOW_MS) this.sent.shift()
    if (this.sent.length >= this.perSecond) return false
    this.sent.push(now)
    return true
  }
}
