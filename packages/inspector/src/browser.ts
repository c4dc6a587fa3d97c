// `@igor/inspector/browser`: the lineage verifier of `igord verify` (SPEC §12)
// for browsers and any JavaScript engine. Nothing on this path imports node:
// modules; SHA-256 and Ed25519 are pure JavaScript (`portableLineageCrypto`).
// The checks, the merge, the fork rule and the report text are the very code
// `igord verify` runs, so the lines are the same.
import type { HistoryContext, HistoryFile, LineageResult } from './lineage/verify.js'
import { verifyHistoryWith } from './lineage/verify.js'
import { findForksWith } from './lineage/forks.js'
import { verifyHistoriesWith } from './lineage/histories.js'
import { portableLineageCrypto } from './lineage/portable-crypto.js'

export { mergeHistories, renderLineageReport, verifyHistoryWith } from './lineage/verify.js'
export type { HistoryContext, HistoryFile, LineageResult, LineageSegment } from './lineage/verify.js'
export { isSegmentName, segmentHistoryFiles } from './lineage/segments.js'
export type { LineageCrypto } from './lineage/crypto.js'
export { findForksWith } from './lineage/forks.js'
export { verifyHistoriesWith } from './lineage/histories.js'
export { portableLineageCrypto } from './lineage/portable-crypto.js'
export { toHex } from './format.js'

/** The pure check over `{ name, bytes }` files (sorted by name inside), portable crypto. */
export function verifyHistory(files: readonly HistoryFile[]): LineageResult {
  return verifyHistoryWith(files, portableLineageCrypto)
}

/** SPEC §12 fork lines over every file of every directory, portable crypto. */
export function findForks(histories: readonly (readonly HistoryFile[])[]): string[] {
  return findForksWith(histories, portableLineageCrypto)
}

/** `igord verify` over directories already read (one file list each): merge, verify, forks. Portable crypto. */
export function verifyHistories(histories: readonly (readonly HistoryFile[])[], context: HistoryContext = {}): LineageResult {
  return verifyHistoriesWith(histories, portableLineageCrypto, context)
}
