// The verifier bound to node:crypto: what `igord verify` runs.
import { nodeLineageCrypto } from './node-crypto.js'
import { findForksWith } from './forks.js'
import { verifyHistoriesWith } from './histories.js'
import type { HistoryContext, HistoryFile, LineageResult } from './verify.js'
import { verifyHistoryWith } from './verify.js'

/** `verifyHistoryWith` using node:crypto: the pure check over `{ name, bytes }` files (sorted by name inside). */
export function verifyHistory(files: readonly HistoryFile[], context: HistoryContext = {}): LineageResult {
  return verifyHistoryWith(files, nodeLineageCrypto, context)
}

/** `findForksWith` using node:crypto. */
export function findForks(histories: readonly (readonly HistoryFile[])[]): string[] {
  return findForksWith(histories, nodeLineageCrypto)
}

/** `verifyHistoriesWith` using node:crypto. */
export function verifyHistories(histories: readonly (readonly HistoryFile[])[], context: HistoryContext = {}): LineageResult {
  return verifyHistoriesWith(histories, nodeLineageCrypto, context)
}
