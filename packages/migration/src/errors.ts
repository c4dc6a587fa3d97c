import { IgorError } from '@igor/errors'
/**
 * Why a migration-layer operation was refused. Stable strings: callers branch
 * on them, and the target may put them in an `AgentStarted.Error` reply.
 */
export type MigrationErrorCode =
  /** An `AgentTransfer` (or a value handed to its encoder) is malformed. */
  | 'BAD_TRANSFER'
  /** An `AgentStarted` reply (or a value handed to its encoder) is malformed. */
  | 'BAD_REPLY'
  /** The peer sent more than the read cap before one JSON value was complete. */
  | 'TRANSFER_TOO_LARGE'
  /** One whole JSON value did not arrive within the time limit. */
  | 'TRANSFER_TIMEOUT'
  /** The stream ended before anything but whitespace arrived. */
  | 'TRANSFER_EMPTY'
  /** The stream ended in the middle of a JSON value. */
  | 'TRANSFER_TRUNCATED'
  /** The caller's AbortSignal fired while reading or writing. */
  | 'TRANSFER_ABORTED'
  /** The underlying stream failed (reset, connection closed) while reading or writing. */
  | 'STREAM_FAILED'
  /** The node key file exists but cannot be read or is not a valid Ed25519 libp2p key. */
  | 'NODE_KEY_INVALID'
  /** The node key could not be created (data directory not writable, disk full, …). */
  | 'NODE_KEY_WRITE_FAILED'
  /** A `listen` entry is not a TCP multiaddr this node can listen on. */
  | 'BAD_LISTEN_ADDRESS'
  /** Listening failed at start (address in use, permission denied, …). */
  | 'LISTEN_FAILED'
  /** A peer address is not a dialable multiaddr with a `/p2p/<peerId>`. */
  | 'BAD_PEER_ADDRESS'
  /** SPEC §16: a price scan handed the peer registry a price outside u64 or negative free slots. */
  | 'BAD_PEER_FACTS'
  /** Dialing the peer or negotiating the protocol failed. */
  | 'DIAL_FAILED'
  /** Hand-off: the target gave a definite refusal (`Success: false`); the source keeps the agent (SPEC §7 source step 4). */
  | 'REJECTED'
  /** Hand-off: the package left but no answer came back; authority is ambiguous (SPEC §7 source step 5). */
  | 'OUTCOME_UNKNOWN'
  /** Target: node-wide caps on concurrent inbound transfers or their buffered bytes reached. */
  | 'TARGET_BUSY'
  /** Target: this peer sent more hand-offs in the last minute than the node allows. */
  | 'RATE_LIMITED'
  /** Target (SPEC §7, §11): admissions from this peer, or of this agent id, killed the node 3 times; refused at the door. */
  | 'ADMISSION_REFUSED'
  /** Authority query (issue 12): no peer gave a definite answer, or the agent is not RECOVERY_REQUIRED; nothing changed. */
  | 'NO_DEFINITE_ANSWER'
  /** Price query (SPEC §15): the peer answered with a refusal other than `RATE_LIMITED` (e.g. it could not read the question). */
  | 'QUERY_REFUSED'

/** The typed error of `@igor/migration`: a stable `code` and a one-line message naming the field or file. */
export class MigrationError extends IgorError<MigrationErrorCode> {
  override readonly name = 'MigrationError'
  /**
   * `REJECTED` only: the target's typed refusal code (`AgentStarted.Code`, ours: `NODE_FULL`,
   * `TARGET_BUSY`, `UNDECLARED_CAPABILITY`, …); null when it gave none (a reference node) and for other codes.
   * SPEC §16 placement classifies by it, never by the message.
   */
  readonly refusal: string | null

  constructor(code: MigrationErrorCode, message: string, options?: { cause?: unknown, refusal?: string | null }) {
    super(code, message, options?.cause !== undefined ? { cause: options.cause } : undefined)
    this.refusal = options?.refusal ?? null
  }
}

/** True when `err` is a `MigrationError`, optionally with the given code. */
export function isMigrationError(err: unknown, code?: MigrationErrorCode): err is MigrationError {
  return err instanceof MigrationError && (code === undefined || err.code === code)
}

/** First line of an unknown thrown value's message, for wrapping foreign errors in one-line messages. */
export function describeCause(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  const line = text.split('\n').find((l) => l.trim() !== '') ?? ''
  return line.trim() || (err instanceof Error ? err.name : 'unknown error')
}
