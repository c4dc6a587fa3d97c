/**
 * The one typed-error base (issue 18, SPEC §10): every package's error is an
 * `IgorError` with a stable `code` its callers switch on, a one-line message
 * a CLI can print as it is, and the underlying `cause` when there is one.
 */
export class IgorError<C extends string = string> extends Error {
  readonly code: C

  constructor (code: C, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Whether `error` is one of ours (any package's), with its code. */
export function isIgorError (error: unknown): error is IgorError {
  return error instanceof IgorError
}
