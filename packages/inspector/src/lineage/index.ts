export { mergeHistories, renderLineageReport, verifyHistory } from './verify.js'
export type { HistoryFile, LineageResult, LineageSegment } from './verify.js'
export { HistoryError, readHistoryDir, verifyHistoryDirs } from './read-dirs.js'
export { findForks } from './forks.js'
