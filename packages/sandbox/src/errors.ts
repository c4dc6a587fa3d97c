import { IgorError } from '@igor/errors'

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
