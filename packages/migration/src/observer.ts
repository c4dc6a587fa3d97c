import { ObserverRegistry } from '@igor/runner'

/**
 * Hand-off events for a node's metrics and progress display (issue 11),
 * without coupling this package to a metrics library. Process-wide, like
 * `observeRuntime` in `@igor/runner`: one igord process, one-line call sites.
 * Callbacks must be cheap; one that throws is ignored.
 */
export interface MigrationObserver {
  /** Source: the package for `agentId` is encoded and about to be sent (`bytes` in total). */
  onSendStart?(agentId: string, bytes: number): void
  /** Source: `sent` of `total` bytes handed to the stream so far. */
  onSendProgress?(agentId: string, sent: number, total: number): void
  /** Target: a whole transfer arrived (`bytes`), before it is checked. */
  onReceived?(bytes: number): void
  /** Target: an arrival admitted (`refusal` null) or refused with that error code. */
  onArrival?(agentId: string, refusal: string | null): void
}

const observers = new ObserverRegistry<MigrationObserver>()

/** Registers `observer`; returns the function that removes it. */
export function observeMigrations(observer: MigrationObserver): () => void {
  return observers.add(observer)
}

// An observer's failure never changes a hand-off.
const each = (call: (observer: MigrationObserver) => void): void => { observers.each(call) }

/** The call sites' side: one line each in handoff/source.ts and handoff/target.ts. */
export const migrationEvents = {
  sendStart: (agentId: string, bytes: number): void => each((o) => o.onSendStart?.(agentId, bytes)),
  sendProgress: (agentId: string, sent: number, total: number): void => each((o) => o.onSendProgress?.(agentId, sent, total)),
  received: (bytes: number): void => each((o) => o.onReceived?.(bytes)),
  arrival: (agentId: string, refusal: string | null): void => each((o) => o.onArrival?.(agentId, refusal))
}
