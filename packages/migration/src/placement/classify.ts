// SPEC §16 Placement: a failed hand-off attempt classified by its typed error code, never by its message.
import { MigrationError } from '../errors.js'

/**
 * What placement does after a failed attempt:
 * - `refused`: a definite refusal; the agent is still here, try the next target;
 * - `transient`: nothing reached the target (or it was busy); the agent is still here, retry the same target;
 * - `ambiguous`: the package left and no answer came; the agent is RECOVERY_REQUIRED, stop (assisted recovery takes over);
 * - `local`: this node could not start the hand-off (the agent is not here, halted, mid-hand-off…); stop, nothing changed.
 */
export type AttemptClass = 'refused' | 'transient' | 'ambiguous' | 'local'

export interface Classified {
  readonly kind: AttemptClass
  /** The code it was classified by: the target's refusal code for `REJECTED` (or `REJECTED` when it gave none), else the error's code. */
  readonly code: string
}

/**
 * Refusal codes a target gives (`AgentStarted.Code`, ours) after which the
 * same target is worth asking again: it was busy, rate limiting, or the
 * package did not reach it whole (the stream failed or timed out while it
 * read). Every other refusal code — price and policy (`MANIFEST_INVALID`),
 * `UNDECLARED_CAPABILITY`, `HASH_MISMATCH`, `REPLAY_FAILED`,
 * `SIGNATURE_INVALID`, `NODE_FULL`, `NODE_DRAINING` (SPEC §16 drain), `FENCED`, … and codes not known here — is
 * definite.
 */
export const TRANSIENT_REFUSALS: ReadonlySet<string> = new Set([
  'TARGET_BUSY', 'RATE_LIMITED', 'TRANSFER_TIMEOUT', 'TRANSFER_TRUNCATED', 'TRANSFER_EMPTY', 'TRANSFER_ABORTED', 'STREAM_FAILED'
])

/** Source-side codes of `migrateAgent` → class (a `REJECTED` is split by its refusal code). */
const SOURCE_CODES: Readonly<Record<string, AttemptClass>> = {
  DIAL_FAILED: 'transient',
  OUTCOME_UNKNOWN: 'ambiguous',
  BAD_PEER_ADDRESS: 'refused'
}

/** Classifies what one hand-off attempt threw. Anything that is not a `MigrationError` came from this node's runtime before the package left: `local`. */
export function classifyAttempt(error: unknown): Classified {
  if (!(error instanceof MigrationError)) {
    const code = (error as { code?: unknown } | null)?.code
    return { kind: 'local', code: typeof code === 'string' ? code : 'UNKNOWN' }
  }
  if (error.code === 'REJECTED') {
    const refusal = error.refusal
    if (refusal === null) return { kind: 'refused', code: 'REJECTED' }
    return { kind: TRANSIENT_REFUSALS.has(refusal) ? 'transient' : 'refused', code: refusal }
  }
  return { kind: SOURCE_CODES[error.code] ?? 'local', code: error.code }
}
