import { IgorError } from '@igor/errors'
/** Expected failures of create-igor-agent: a one-line message and a stable code. */
export class CreateAgentError extends IgorError<'TARGET_NOT_EMPTY' | 'SDK_NOT_FOUND' | 'TARBALLS_NOT_FOUND' | 'BAD_NAME'> {
  override readonly name = 'CreateAgentError'
}
