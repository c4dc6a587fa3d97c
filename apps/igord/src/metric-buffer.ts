// SPEC §14 metrics (issue 21 item 5): what the node counts before prom-client has loaded.
import type { MigrationOutcome } from './metric-labels.js'

/**
 * Every event the node's metrics count, in one place: the prom-client
 * registry (`NodeMetrics`) implements it, and so does `MetricBuffer`, which
 * holds the events until that registry exists and then replays them into it.
 * Numbers are exactly what the observers report (`elapsedNs` as
 * `Number(elapsedNs)`), so a replayed event is counted as if it came live.
 */
export interface MetricSink {
  tick(elapsedNs: number): void
  checkpoint(bytes: number, ms: number): void
  renewal(): void
  eviction(): void
  /** Bytes the history disk guard deleted in one round. */
  historyDiskPrune(bytes: number): void
  /** The runner's halt reason text (retirements included; the sink decides). */
  halt(reason: string): void
  sendStart(agentId: string): void
  sendProgress(agentId: string, sent: number, total: number): void
  received(bytes: number): void
  arrival(agentId: string, refusal: string | null): void
  autoPlacement(kind: 'request_move' | 'price', outcome: string): void
  migration(outcome: MigrationOutcome, ms: number): void
}

/** A growable Float64Array: one tick is 8 bytes, not an object. */
class Floats {
  private data = new Float64Array(1024)
  length = 0

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    this.data[this.length++] = value
  }

  at(index: number): number {
    return this.data[index] as number
  }
}

/**
 * The events counted before the registry loads. Ticks and checkpoints (the
 * frequent ones, each touching metrics no other event touches) are kept as
 * plain numbers in arrival order; renewals and evictions as counts; every
 * other event (halts, hand-off progress, placements: rare, and some depend on
 * each other's order) as a call in one ordered list. `replayInto` hands them
 * to the real sink in that order, so each metric sees exactly the sequence it
 * would have seen live.
 */
export class MetricBuffer implements MetricSink {
  private readonly ticks = new Floats()
  /** bytes, ms, bytes, ms, … */
  private readonly checkpoints = new Floats()
  private renewals = 0
  private evictions = 0
  private readonly others: Array<(sink: MetricSink) => void> = []

  /** Events held (a tick or a checkpoint counts one). */
  get size(): number {
    return this.ticks.length + this.checkpoints.length / 2 + this.renewals + this.evictions + this.others.length
  }

  tick(elapsedNs: number): void { this.ticks.push(elapsedNs) }
  checkpoint(bytes: number, ms: number): void {
    this.checkpoints.push(bytes)
    this.checkpoints.push(ms)
  }

  renewal(): void { this.renewals++ }
  eviction(): void { this.evictions++ }
  historyDiskPrune(bytes: number): void { this.others.push((s) => { s.historyDiskPrune(bytes) }) }
  halt(reason: string): void { this.others.push((s) => { s.halt(reason) }) }
  sendStart(agentId: string): void { this.others.push((s) => { s.sendStart(agentId) }) }
  sendProgress(agentId: string, sent: number, total: number): void { this.others.push((s) => { s.sendProgress(agentId, sent, total) }) }
  received(bytes: number): void { this.others.push((s) => { s.received(bytes) }) }
  arrival(agentId: string, refusal: string | null): void { this.others.push((s) => { s.arrival(agentId, refusal) }) }
  autoPlacement(kind: 'request_move' | 'price', outcome: string): void { this.others.push((s) => { s.autoPlacement(kind, outcome) }) }
  migration(outcome: MigrationOutcome, ms: number): void { this.others.push((s) => { s.migration(outcome, ms) }) }

  /** Hands every held event to `sink`, in order per metric. Call once; the buffer is not emptied. */
  replayInto(sink: MetricSink): void {
    for (let i = 0; i < this.ticks.length; i++) sink.tick(this.ticks.at(i))
    for (let i = 0; i < this.checkpoints.length; i += 2) sink.checkpoint(this.checkpoints.at(i), this.checkpoints.at(i + 1))
    for (let i = 0; i < this.renewals; i++) sink.renewal()
    for (let i = 0; i < this.evictions; i++) sink.eviction()
    for (const call of this.others) call(sink)
  }
}
