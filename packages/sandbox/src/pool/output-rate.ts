/**
 * SPEC §11 backpressure across calls: the per-call caps (64 lines, 64 KiB)
 * bound one call, but an agent that reports more work ticks every 10 ms and
 * could still push ~6 500 lines a second into the node's log. This bucket
 * bounds an agent's output over time, on the node's side.
 */
export interface OutputRateLimits {
  readonly linesPerSecond: number
  readonly burstLines: number
  readonly bytesPerSecond: number
  readonly burstBytes: number
}

export const OUTPUT_RATE: OutputRateLimits = {
  linesPerSecond: 200,
  burstLines: 1_000,
  bytesPerSecond: 256 * 1024,
  burstBytes: 1024 * 1024
}

/** Two token buckets (lines, bytes) refilled continuously; `take` spends from both or from neither. */
export class OutputRate {
  private lines: number
  private bytes: number
  private at: number

  constructor(private readonly limits: OutputRateLimits = OUTPUT_RATE, private readonly now: () => number = () => performance.now()) {
    this.lines = limits.burstLines
    this.bytes = limits.burstBytes
    this.at = now()
  }

  /** True when a line of `length` bytes may be logged now. */
  take(length: number): boolean {
    const now = this.now()
    const seconds = Math.max(0, now - this.at) / 1000
    this.at = now
    this.lines = Math.min(this.limits.burstLines, this.lines + seconds * this.limits.linesPerSecond)
    this.bytes = Math.min(this.limits.burstBytes, this.bytes + seconds * this.limits.bytesPerSecond)
    if (this.lines < 1 || this.bytes < length) return false
    this.lines -= 1
    this.bytes -= length
    return true
  }
}
