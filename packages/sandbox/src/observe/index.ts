// SPEC §12: the per-tick observation record the hostcalls write, and the
// worker-side feed that serves it back when a tick is replayed.
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
export { type LastTickRecord, type ObserveSetup, type TickObservations, WorkerObservation } from './worker-observe.js'
