// @igor/replay: replay of a tick from its observation record, the simulator
// and self-verification scheduling (SPEC §12). The record itself is written
// and served inside the sandbox (@igor/sandbox's observe/).
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
export { type ReplayOutcome, type ReplayTickInput, describeReplayOutcome, replayTick } from './replay-tick.js'
export { SelfVerifier, type SelfVerifierOptions, type SelfVerifierStats, type TickRecord } from './self-verify.js'
export { DETERMINISTIC_TICK_NS, type SimulateOptions, type SimulationResult, SimulationSetupError, type TickSummary, simulate } from './simulate.js'
export { attachSimulatedPayments, simulationSigner } from './simulate-pay.js'
