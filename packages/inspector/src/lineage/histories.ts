import type { LineageCrypto } from './crypto.js'
import { findForksWith } from './forks.js'
import type { HistoryContext, HistoryFile, LineageResult } from './verify.js'
import { mergeHistories, verifyHistoryWith } from './verify.js'

/**
 * `igord verify <dir>…` once the directories are read (SPEC §12): one file
 * list per directory, merged (higher epoch wins per name) and verified; forks
 * among all the files are named, even where the merge would hide one side.
 * Portable: the browser verifier calls it with what was dropped on the page.
 */
export function verifyHistoriesWith(histories: readonly (readonly HistoryFile[])[], crypto: LineageCrypto, context: HistoryContext = {}): LineageResult {
  const result = verifyHistoryWith(mergeHistories(histories), crypto, context)
  const forks = findForksWith(histories, crypto)
  return forks.length === 0 ? result : { ...result, errors: [...result.errors, ...forks], valid: false }
}
