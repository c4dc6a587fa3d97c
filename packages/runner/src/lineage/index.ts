export { AgentLineage, headOf, type ChainHead } from './agent-lineage.js'
export { DEFAULT_AGENT_DISK_QUOTA_BYTES, HISTORY_DIR, HistoryArchive, historyFileName } from './history.js'
export type { HistoryOptions } from './history.js'
export { DEFAULT_HISTORY_KEEP, describeHistoryKeep, parseHistoryKeep, type HistoryKeep } from './history-retention.js'
export {
  AUTO_MIN_FREE_FACTOR, AUTO_MIN_FREE_PERCENT, DISK_GUARD_INTERVAL_MS, HistoryDiskGuard, describeHistoryMinFree, historyMinFreeBytes,
  type DiskGuardRound, type DiskShortage, type HistoryDiskGuardOptions, type HistoryMinFree, type StatfsProbe
} from './history-disk-guard.js'
export { newestArchived } from './history-files.js'
export { readRetainedHistory, writeReferenceHistory, type RetainedHistory } from './history-export.js'
export {
  IDENTITY_SUFFIX, checkSignedCheckpoint, identityPath, lineageForArrival, openLineage, readIdentityBytes, removeIdentity,
  restoreIdentity, writeIdentity
} from './open.js'
export { importCheckpoint, validateImport, type ImportRequest, type ValidatedImport } from './import.js'
export { restoreImportedHistory, type ImportedHistory } from './history-restore.js'
