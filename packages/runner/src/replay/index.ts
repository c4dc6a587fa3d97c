export {
  HostcallId,
  type HostcallIdName,
  REFERENCE_MAX_HOSTCALL_ID,
  MAX_TICK_LOG_BYTES,
  MAX_TICK_LOG_ENTRIES,
  type ObservationEntry,
  type TickLog,
  TickRecorder,
  decodeEntries,
  encodeEntries,
  highestHostcallId,
  hostcallName,
  u64Payload
} from './event-log.js'
export { ReplayAbort, ReplayFeed, firstDifference } from './replayer.js'
export { GoPcg } from './pcg.js'
export {
  DeterministicSources,
  LOG_EMIT_MAX,
  RAND_BYTES_MAX,
  WASI_RANDOM_MAX,
  type HostFunctions,
  type MemoryRef,
  deterministicIgor,
  deterministicWasi,
  recordingIgor,
  recordingWasi,
  replayingIgor,
  replayingWasi
} from './hostcalls.js'
export {
  DEFAULT_REPLAY_SETTINGS,
  DIVERGENCE_POLICIES,
  type DivergencePolicy,
  MAX_VERIFY_INTERVAL,
  REPLAY_MODES,
  type ReplayMode,
  type ReplaySettings,
  ReplaySettingsError,
  parseDivergencePolicy,
  parseReplayMode,
  parseReplaySettings,
  parseVerifyInterval,
  verifiesOnMigrate,
  verifiesPeriodically
} from './flags.js'
export { type LastTickRecord, type ObserveSetup, type TickObservations, WorkerObservation } from './worker-observe.js'
export { type ReplayOutcome, type ReplayTickInput, describeReplayOutcome, replayTick } from './replay-tick.js'
export { SelfVerifier, type SelfVerifierOptions, type SelfVerifierStats, type TickRecord } from './self-verify.js'
export { DETERMINISTIC_TICK_NS, type SimulateOptions, type SimulationResult, SimulationSetupError, type TickSummary, simulate } from './simulate.js'
