// Test helpers shared by the packages' unit tests (never shipped: the package is private).
export { type LogLine, type Logger, counterValue, recordingLogger, refusal, tempDir, waitFor } from './helpers.js'
export { NO_INTERRUPT, agentWat, text, wat } from './wat.js'
