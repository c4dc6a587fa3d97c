import { errnoCode } from '@igor/sandbox'
import { RunnerError } from '../errors.js'

export { describeReadError, errnoCode } from '@igor/sandbox'

/** `RunnerError('STORE_IO')` naming the path, what failed and the OS error code. */
export function storeIoError(path: string, operation: string, error: unknown): RunnerError {
  const code = errnoCode(error) ?? (error instanceof Error ? error.message : String(error))
  return new RunnerError('STORE_IO', `${path}: ${operation} failed (${code})`, { cause: error })
}
