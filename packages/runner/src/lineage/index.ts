export { AgentLineage, headOf, type ChainHead } from './agent-lineage.js'
export { HISTORY_DIR, HistoryArchive, historyFileName } from './history.js'
export {
  IDENTITY_SUFFIX, checkSignedCheckpoint, identityPath, lineageForArrival, openLineage, readIdentityBytes, removeIdentity,
  restoreIdentity, writeIdentity
} from './open.js'
export { importCheckpoint, validateImport, type ImportRequest, type ValidatedImport } from './import.js'
