// SPEC §10: the typed errors of the sandbox, both IgorErrors with stable codes.
import { IgorError } from '@igor/errors'
import type { FailureKind } from './pool/messages.js'

/**
 * SPEC §10/§11: a module or manifest refused before any of it runs. The codes
 * are the ones the runner used before the sandbox became its own package, so
 * callers switching on `code` (and the CLI's one-line messages) are unchanged.
 */
export type ModuleErrorCode =
  | 'WASM_UNREADABLE'
  | 'WASM_INVALID'
  | 'MISSING_EXPORT'
  | 'UNDECLARED_CAPABILITY'
  | 'UNKNOWN_IMPORT'
  | 'MEMORY_LIMIT'
  | 'MODULE_LIMIT'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNREADABLE'

export class ModuleError extends IgorError<ModuleErrorCode> {
  override readonly name = 'ModuleError'
}

/**
 * `evicted`: the agent did nothing wrong; the worker it shared with another
 * agent had to be stopped (issue 11). Its instance is gone; the node restarts
 * it from its last checkpoint. `moved`: its checkpoint (or a tick's state
 * copy) needed more than its share of a shared worker thread (SPEC §11 fair
 * share); the call was interrupted and the node restarts it from its last
 * checkpoint in a worker of its own.
 */
export type SandboxFailure = FailureKind | 'crashed' | 'out-of-memory' | 'terminated' | 'evicted' | 'moved'

/** A tick, init or checkpoint that did not complete; the sandbox is unusable afterwards. */
export class SandboxError extends IgorError<SandboxFailure> {
  override readonly name = 'SandboxError'
  /** Time the failed call is charged (the full deadline for a missed one). */
  readonly elapsedNs: bigint
  constructor(kind: SandboxFailure, message: string, elapsedNs = 0n) {
    super(kind, message)
    this.elapsedNs = elapsedNs
  }

  /** The failure, as the callers have always read it; the same value as `code`. */
  get kind(): SandboxFailure {
    return this.code
  }
}
