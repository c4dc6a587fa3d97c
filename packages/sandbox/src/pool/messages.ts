/**
 * Messages between the node (main thread) and an agent's worker thread.
 *
 * Protocol: the node posts one `WorkerRequest` at a time per slot; the worker answers
 * with at most `OUTPUT_LIMITS.maxLinesPerCall` `WorkerLog` lines plus one
 * summary line, then exactly one `WorkerReply` carrying the same `id`.
 * Every reply reports `elapsedNs`, the time spent inside the agent for that
 * call, so the node charges every call (SPEC §11 metering); a call that
 * missed its deadline is charged the full deadline.
 *
 * Every request carries `deadlineMs`: the worker bounds any wait it performs
 * for the agent (`poll_oneoff`) by it, and the node terminates the worker when
 * it passes (SPEC §11). To add an operation (e.g. `replay`), add a request
 * variant here, a case in `worker/agent-runtime.ts`, and a method on
 * `AgentSandbox`; replies stay one of the two shapes below.
 */

import type { LastTickRecord, ObserveSetup } from '../observe/worker-observe.js'
import type { MessagePort } from 'node:worker_threads'
import type { WorkerMarks } from '../containment/call-marker.js'
import type { WalletPayCall } from '../effects/wallet-pay.js'

export interface WorkerSetup {
  readonly agentId: string
  readonly module: WebAssembly.Module
  /** Capabilities whose `igor.*` hostcalls are provided (SPEC §5: declared ones only). */
  readonly capabilities: readonly string[]
  readonly usesWasi: boolean
  readonly entry: '_start' | '_initialize' | null
  /** SPEC §12: record observations (live, simulate) or serve recorded ones (replay). Absent: neither. */
  readonly observe?: ObserveSetup
  /** SPEC §16 `request_move`: false when the manifest's `migration_policy.enabled` is false (answers −1). Absent: true. */
  readonly migrationEnabled?: boolean
}

interface RequestBase {
  readonly id: number
  /**
   * The agent's slot in its worker (issue 11: a worker may host several
   * agents, each with its own instance; see `sandbox/worker-host.ts`).
   * Every message the worker posts back carries the slot of its request.
   */
  readonly slot: number
  /** The call's deadline, from when the worker starts it (SPEC §11: tick 100 ms, init/resume 10 s, checkpoint 5 s). */
  readonly deadlineMs: number
}

export type WorkerRequest =
  /** Instantiate, run `_start`/`_initialize`, `agent_init`, then `malloc` + `agent_resume(state)` when given. */
  | RequestBase & { readonly op: 'init', readonly setup: WorkerSetup, readonly budget: bigint, readonly price?: bigint, readonly state: Uint8Array | null, readonly stamps?: SharedArrayBuffer, readonly wire?: SharedArrayBuffer }
  /**
   * `deadline`: the end of the lease (+ grace) on the process.hrtime clock
   * (issue 12); the worker refuses the tick, without running it, when it is
   * already past (reply kind `deadline`; the worker stays usable).
   * `price` (SPEC §15, `node_price`): the node's price per second when the
   * request was built; absent, the worker keeps the last one it was sent
   * (the same for `init`).
   * `movePending` (SPEC §16): a move the agent asked for is still being
   * placed; `request_move` answers −2 during this tick.
   */
  | RequestBase & { readonly op: 'tick', readonly budget: bigint, readonly price?: bigint, readonly receipts?: Uint8Array, readonly deadline?: bigint | null, readonly snapshotDeadlineMs?: number, readonly marks?: WorkerMarks, readonly movePending?: boolean }
  /**
   * `agent_checkpoint` + `agent_checkpoint_ptr`; the bytes are copied out and transferred. `marks` (tick too): SPEC §11, the worker marks the call when it starts it.
   * The node sends `marks` with the first tick or checkpoint after they are set; the worker keeps them for every later call of the slot
   * (structured-cloning their SharedArrayBuffer into every tick cost more than the rest of the request).
   */
  | RequestBase & { readonly op: 'checkpoint', readonly marks?: WorkerMarks }
  /** SPEC §12: the last tick's states before and after it, and its event log (kept in the worker; no call into the agent). */
  | RequestBase & { readonly op: 'tick-record' }
  /** Drop the slot's instance (no reply): the agent stopped, failed, or left the node. */
  | RequestBase & { readonly op: 'dispose' }

/** A request as an `AgentSandbox` builds it; its slot is added when it is posted. */
export type SlotlessRequest = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'slot'> : never) : never

/**
 * `trap`: the agent trapped (or a hostcall failed unexpectedly); `abi`: a bad
 * pointer or length from an export; `exit`: `proc_exit`; `timeout`: the agent
 * asked to wait past its deadline; `deadline`: the tick was refused before it
 * ran because the lease had ended (nothing ran; the agent is intact).
 */
export type FailureKind = 'trap' | 'abi' | 'exit' | 'timeout' | 'deadline'

export type WorkerReply =
  | { readonly type: 'reply', readonly id: number, readonly slot?: number, readonly ok: true, readonly elapsedNs: bigint, readonly more?: boolean, readonly state?: Uint8Array, readonly observations?: number, readonly highestId?: number, readonly recorded?: boolean, readonly replayFailure?: string | null, readonly record?: LastTickRecord | null, readonly moveRequest?: bigint }
  | { readonly type: 'reply', readonly id: number, readonly slot?: number, readonly ok: false, readonly kind: FailureKind, readonly message: string, readonly elapsedNs: bigint }

export interface WorkerLog {
  readonly type: 'log'
  /** The request during which the line was produced. */
  readonly id: number
  readonly slot?: number
  /** `agent` for `igor.log_emit`, `stdout`/`stderr` for WASI fd 1/2, `sandbox` for the over-the-cap summary. */
  readonly stream: 'agent' | 'stdout' | 'stderr' | 'sandbox'
  readonly line: string
}

/**
 * SPEC §13: the agent called `igor.http_request` during a tick. The worker
 * blocks on `Atomics.wait(signal)`; the node performs the request (allow-list,
 * output gate, network), posts one `HttpAnswer` on the transferred port,
 * then stores 1 in `signal` and notifies it.
 */
export interface WorkerHttpCall {
  readonly type: 'http'
  /** The request (tick) during which the call was made. */
  readonly id: number
  readonly slot?: number
  /** n of the Idempotency-Key: the call's index within the tick. */
  readonly callIndex: number
  readonly call: { readonly method: string, readonly url: string, readonly headers: string, readonly body: Uint8Array }
  readonly signal: SharedArrayBuffer
  /** Transferred: where the node posts its answer. */
  readonly port: MessagePort
}

/** The node's answer to a `WorkerHttpCall`; `maxResponseBytes` lets the worker apply the −5 rules. */
export type HttpAnswer =
  | { readonly ok: true, readonly status: number, readonly body: Uint8Array, readonly maxResponseBytes: number }
  | { readonly ok: false, readonly code: number, readonly maxResponseBytes: number }

/**
 * SPEC §13: a tick's total wall time is bounded — compute deadline plus the
 * requests' timeouts, at most this. Every request gets at most what is left.
 */
export const TICK_WALL_LIMIT_MS = 15_000

/**
 * SPEC §15 `wallet_pay`: the agent called it during a tick and the worker's
 * own checks passed. As `WorkerHttpCall`: the worker blocks on `signal`, the
 * node answers with one `WalletPayAnswer` on `port`, then wakes it.
 */
export interface WorkerPayCall {
  readonly type: 'pay'
  readonly id: number
  readonly slot?: number
  readonly call: WalletPayCall
  readonly signal: SharedArrayBuffer
  readonly port: MessagePort
}

/**
 * A number instead of an object is a tick through the slot's `TickWire`
 * (`pool/tick-wire.ts`, sent with `init` as `wire`): node → worker, a tick
 * request for that slot; worker → node, its reply.
 */
export type WorkerMessage = WorkerReply | WorkerLog | WorkerHttpCall | WorkerPayCall
