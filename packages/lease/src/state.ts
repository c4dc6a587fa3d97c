/**
 * Authority states and the transition table (SPEC §3 "States").
 *
 * A const object plus a union type of the same name, so callers can write
 * `AuthorityState.ACTIVE_OWNER` and use `AuthorityState` as a type.
 */
export const AuthorityState = Object.freeze({
  ACTIVE_OWNER: 'ACTIVE_OWNER',
  HANDOFF_INITIATED: 'HANDOFF_INITIATED',
  HANDOFF_PENDING: 'HANDOFF_PENDING',
  RETIRED: 'RETIRED',
  RECOVERY_REQUIRED: 'RECOVERY_REQUIRED'
} as const)

export type AuthorityState = typeof AuthorityState[keyof typeof AuthorityState]

/** Every state, in the order of the SPEC table. */
export const AUTHORITY_STATES: readonly AuthorityState[] = Object.freeze(Object.values(AuthorityState))

const { ACTIVE_OWNER, HANDOFF_INITIATED, HANDOFF_PENDING, RETIRED, RECOVERY_REQUIRED } = AuthorityState

// SPEC §3: the only allowed transitions. `RECOVERY_REQUIRED → RECOVERY_REQUIRED`
// is listed because "ANY → RECOVERY_REQUIRED" includes it (entering recovery twice
// is harmless and idempotent). Both X → ACTIVE_OWNER entries have preconditions the
// table cannot show: the revert needs a definite rejection, recovery an operator.
const ALLOWED: Readonly<Record<AuthorityState, readonly AuthorityState[]>> = Object.freeze({
  [ACTIVE_OWNER]: [HANDOFF_INITIATED, RETIRED, RECOVERY_REQUIRED],
  [HANDOFF_INITIATED]: [HANDOFF_PENDING, RETIRED, ACTIVE_OWNER, RECOVERY_REQUIRED],
  [HANDOFF_PENDING]: [RETIRED, ACTIVE_OWNER, RECOVERY_REQUIRED],
  [RETIRED]: [RECOVERY_REQUIRED],
  [RECOVERY_REQUIRED]: [RECOVERY_REQUIRED, ACTIVE_OWNER]
})

/** True for exactly the five state strings of SPEC §3 (for reading durable records). */
export function isAuthorityState(value: unknown): value is AuthorityState {
  return typeof value === 'string' && (AUTHORITY_STATES as readonly string[]).includes(value)
}

/** Only `ACTIVE_OWNER` may tick (SPEC §3, single active instance). */
export function canTick(state: AuthorityState): boolean {
  return state === ACTIVE_OWNER
}

/** Whether the SPEC §3 table allows `from → to` at all (preconditions aside). */
export function isAllowedTransition(from: AuthorityState, to: AuthorityState): boolean {
  return isAuthorityState(from) && ALLOWED[from].includes(to)
}
