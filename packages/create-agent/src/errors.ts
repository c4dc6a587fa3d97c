/** Expected failures of create-igor-agent: a one-line message and a stable code. */
export class CreateAgentError extends Error {
  readonly code: 'TARGET_NOT_EMPTY' | 'SDK_NOT_FOUND' | 'TARBALLS_NOT_FOUND' | 'BAD_NAME'
  constructor(code: CreateAgentError['code'], message: string) {
    super(message)
    this.name = 'CreateAgentError'
    this.code = code
  }
}
