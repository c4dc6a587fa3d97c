/**
 * What a node's operator wants to count (issue 11: metrics), told without
 * coupling the runner to a metrics library: `apps/igord` registers an
 * observer that feeds prom-client; tests can register their own.
 *
 * Process-wide, like a metrics registry: an igord process has one runtime,
 * and the call sites stay one line each instead of threading an option
 * through every constructor. Callbacks must be cheap and must not throw
 * (a throwing observer is ignored, never the agent's problem).
 */
export interface RuntimeObserver {
  /** One completed tick; `elapsedNs` is the agent's own run time as metered (SPEC §5). */
  onTick?(agentId: string, elapsedNs: bigint): void
  /** A checkpoint written to disk: its size and the time to take, encode and write it. */
  onCheckpoint?(agentId: string, bytes: number, ms: number): void
  /** A lease renewal made durable (SPEC §3). */
  onRenewal?(agentId: string): void
  /** The agent's shared worker was stopped for another agent's fault; it restarted from its last checkpoint (issue 11). */
  onEviction?(agentId: string): void
  /** The agent stopped ticking here, with the reason status shows (told once per halt, when it happens). */
  onHalt?(agentId: string, reason: string): void
  /** SPEC §16 "The agent decides": the tick that just completed called `request_move(max)` and was answered 0. */
  onMoveRequest?(agentId: string, maxPricePerSecond: bigint): void
  /** SPEC §12 (ours): the history disk guard pruned `bytes` in `files` of `agents` agents' histories to keep free disk. */
  onHistoryDiskPrune?(bytes: number, files: number, agents: number): void
}

/**
 * A process-wide set of observers (this file's and `@igor/migration`'s
 * events). `each` calls every observer; one that throws is skipped, never
 * the caller's problem.
 */
export class ObserverRegistry<T> {
  private readonly observers = new Set<T>()

  get size(): number {
    return this.observers.size
  }

  /** Registers `observer`; returns the function that removes it. */
  add(observer: T): () => void {
    this.observers.add(observer)
    return () => { this.observers.delete(observer) }
  }

  each(call: (observer: T) => void): void {
    for (const observer of this.observers) {
      try {
        call(observer)
      } catch {
        // an observer's failure is never the caller's
      }
    }
  }
}

const observers = new ObserverRegistry<RuntimeObserver>()

/** Registers `observer`; returns the function that removes it. */
export function observeRuntime(observer: RuntimeObserver): () => void {
  return observers.add(observer)
}

const each = (call: (observer: RuntimeObserver) => void): void => { observers.each(call) }

/** The call sites' side: one line each in agent-host.ts. */
export const runtimeEvents = {
  tick: (agentId: string, elapsedNs: bigint): void => { if (observers.size > 0) each((o) => o.onTick?.(agentId, elapsedNs)) },
  checkpoint: (agentId: string, bytes: number, ms: number): void => { if (observers.size > 0) each((o) => o.onCheckpoint?.(agentId, bytes, ms)) },
  renewal: (agentId: string): void => { if (observers.size > 0) each((o) => o.onRenewal?.(agentId)) },
  eviction: (agentId: string): void => { if (observers.size > 0) each((o) => o.onEviction?.(agentId)) },
  halt: (agentId: string, reason: string): void => { if (observers.size > 0) each((o) => o.onHalt?.(agentId, reason)) },
  moveRequest: (agentId: string, maxPricePerSecond: bigint): void => { if (observers.size > 0) each((o) => o.onMoveRequest?.(agentId, maxPricePerSecond)) },
  historyDiskPrune: (bytes: number, files: number, agents: number): void => { if (observers.size > 0) each((o) => o.onHistoryDiskPrune?.(bytes, files, agents)) }
}
