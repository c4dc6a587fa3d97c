export { AgentLineage, headOf, type ChainHead } from './agent-lineage.js'
export { DEFAULT_AGENT_DISK_QUOTA_BYTES, HISTORY_DIR, HistoryArchive, historyFileName } from './history.js'
export type { HistoryOptions } from './history.js'
export {
  IDENTITY_SUFFIX, checkSignedCheckpoint, identityPath, lineageForArrival, openLineage, readIdentityBytes, removeIdentity,
  restoreIdentity, writeIdentity
} from './open.js'
export { importCheckpoint, validateImport, type ImportRequest, type ValidatedImport } from './import.js'
