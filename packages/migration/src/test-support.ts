import { MigrationError } from './errors.js'

/** The MigrationError `fn` throws; fails the test if it returns or throws anything else. */
export function refusal(fn: () => unknown): MigrationError {
  try {
    fn()
  } catch (err) {
    if (err instanceof MigrationError) return err
    throw new Error(`expected a MigrationError, got ${String(err)}`)
  }
  throw new Error('expected a MigrationError, nothing was thrown')
}

/** The MigrationError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function asyncRefusal(promise: Promise<unknown>): Promise<MigrationError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof MigrationError) return err
    throw new Error(`expected a MigrationError, got ${String(err)}`)
  }
  throw new Error('expected a MigrationError, the promise resolved')
}
