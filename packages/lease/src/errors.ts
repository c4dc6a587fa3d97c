import { IgorError } from '@igor/errors'
/** Why an authority operation was refused (SPEC §3). */
export type AuthorityErrorCode = 'NOT_ACTIVE_OWNER' | 'LEASE_EXPIRED' | 'INVALID_TRANSITION'

/**
 * A refused authority operation. The lease is left exactly as it was, except
 * for `validateForTick()` past grace, which first moves to `RECOVERY_REQUIRED`.
 */
export class AuthorityError extends IgorError<AuthorityErrorCode> {
  override readonly name = 'AuthorityError'
}
