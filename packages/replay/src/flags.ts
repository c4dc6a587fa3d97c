/**
 * Self-verification settings (SPEC §12) and their validation.
 *
 * The reference never validates these, so a typo silently turns verification
 * off. Ours refuses a bad value before anything starts, with one line naming
 * the flag, the allowed values and what was given.
 */
export const REPLAY_MODES = ['off', 'periodic', 'on-migrate', 'full'] as const
export type ReplayMode = (typeof REPLAY_MODES)[number]

export const DIVERGENCE_POLICIES = ['log', 'pause', 'intensify'] as const
export type DivergencePolicy = (typeof DIVERGENCE_POLICIES)[number]

export interface ReplaySettings {
  /** `off`: never; `periodic`: on the running node; `on-migrate`: arriving packages; `full`: both. */
  readonly mode: ReplayMode
  /** Every Nth tick that made observations is replayed (periodic/full). */
  readonly verifyInterval: number
  readonly onDivergence: DivergencePolicy
}

export const DEFAULT_REPLAY_SETTINGS: ReplaySettings = { mode: 'full', verifyInterval: 5, onDivergence: 'log' }

/** Ours: an upper bound so the interval stays a small exact integer. */
export const MAX_VERIFY_INTERVAL = 1_000_000_000

export class ReplaySettingsError extends Error {
  override readonly name = 'ReplaySettingsError'
  readonly code = 'INVALID_REPLAY_SETTING'
}

/** Whether the running node replays its own ticks. */
export function verifiesPeriodically(settings: ReplaySettings): boolean {
  return settings.mode === 'periodic' || settings.mode === 'full'
}

/** Whether a target replays a migrated package's `ReplayData` before accepting it. */
export function verifiesOnMigrate(settings: ReplaySettings): boolean {
  return settings.mode === 'on-migrate' || settings.mode === 'full'
}

const oneOf = (values: readonly string[]): string => values.join(', ')

export function parseReplayMode(text: string): ReplayMode {
  if ((REPLAY_MODES as readonly string[]).includes(text)) return text as ReplayMode
  throw new ReplaySettingsError(`--replay-mode must be one of ${oneOf(REPLAY_MODES)} (got ${JSON.stringify(text)})`)
}

export function parseDivergencePolicy(text: string): DivergencePolicy {
  if ((DIVERGENCE_POLICIES as readonly string[]).includes(text)) return text as DivergencePolicy
  throw new ReplaySettingsError(`--replay-on-divergence must be one of ${oneOf(DIVERGENCE_POLICIES)} (got ${JSON.stringify(text)})`)
}

export function parseVerifyInterval(text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_VERIFY_INTERVAL) {
    throw new ReplaySettingsError(`--verify-interval must be a whole number of ticks from 1 to ${MAX_VERIFY_INTERVAL} (got ${JSON.stringify(text)})`)
  }
  return value
}

/** Validates the three flags as given on the command line (absent = default). Throws `ReplaySettingsError`. */
export function parseReplaySettings(flags: { replayMode?: string | undefined, verifyInterval?: string | undefined, replayOnDivergence?: string | undefined }): ReplaySettings {
  return {
    mode: flags.replayMode === undefined ? DEFAULT_REPLAY_SETTINGS.mode : parseReplayMode(flags.replayMode),
    verifyInterval: flags.verifyInterval === undefined ? DEFAULT_REPLAY_SETTINGS.verifyInterval : parseVerifyInterval(flags.verifyInterval),
    onDivergence: flags.replayOnDivergence === undefined ? DEFAULT_REPLAY_SETTINGS.onDivergence : parseDivergencePolicy(flags.replayOnDivergence)
  }
}
