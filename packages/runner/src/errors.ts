import { IgorError } from '@igor/errors'
/**
 * Every expected failure in the runner is a `RunnerError` with a stable `code`,
 * so the CLI can print one line (SPEC §10) and tests can match on the code.
 */
export type RunnerErrorCode =
  | 'WASM_UNREADABLE'
  | 'WASM_INVALID'
  | 'MISSING_EXPORT'
  | 'UNDECLARED_CAPABILITY'
  | 'UNKNOWN_IMPORT'
  | 'MEMORY_LIMIT'
  | 'MODULE_LIMIT'
  | 'MANIFEST_INVALID'
  | 'INVALID_AGENT_ID'
  | 'CHECKPOINT_CORRUPT'
  | 'FENCED'
  | 'HASH_MISMATCH'
  | 'AGENT_INIT_FAILED'
  | 'AGENT_HALTED'
  | 'AGENT_RETIRED'
  | 'AGENT_EXISTS'
  | 'AGENT_NOT_FOUND'
  | 'BUDGET_EXHAUSTED'
  | 'STORE_IO'
  | 'CHECKPOINT_INVALID'
  | 'MANIFEST_UNREADABLE'
  | 'AGENT_QUARANTINED'
  | 'NODE_FULL'
  /** SPEC §16 drain: the node is being emptied (`igord drain`) and takes no arrivals, by migration or `igord import`. */
  | 'NODE_DRAINING'
  /** SPEC §7: the agent id (or the peer) killed the node while being admitted 3 times; `igord release` lifts it. */
  | 'ADMISSION_REFUSED'
  | 'REPLAY_FAILED'
  // SPEC §12 agent identity and signed lineage.
  | 'IDENTITY_MISSING'
  | 'IDENTITY_INVALID'
  | 'IDENTITY_MISMATCH'
  | 'SIGNATURE_INVALID'
  /** SPEC §15: a node price that is not a whole number of microcents from 0 to 2^63-1 (or a damaged `price.json`). */
  | 'PRICE_INVALID'
  /** SPEC §15: a hand-off's `Package.Payments` that does not decode or verify (agent key, amounts). */
  | 'PAYMENTS_INVALID'
  /** SPEC §15: a hand-off's `Package.Receipts` that does not verify (signature, order, budget). */
  | 'RECEIPTS_INVALID'
  /** SPEC §15 settlement: a `--settlement-url` that is not an absolute http(s) URL we can append paths to. */
  | 'SETTLEMENT_URL_INVALID'
  /** SPEC §12 (ours): a `--history-keep` that is not `all`, a duration or a count. */
  | 'HISTORY_KEEP_INVALID'

export class RunnerError extends IgorError<RunnerErrorCode> {
  override readonly name = 'RunnerError'
}
