/**
 * Messages between the node (main thread) and an agent's worker thread.
 * One request is outstanding at a time; `id` ties a reply to its request.
 */

export interface WorkerSetup {
  readonly agentId: string
  readonly module: WebAssembly.Module
  /** Capabilities whose `igor.*` hostcalls are provided (SPEC §5: declared ones only). */
  readonly capabilities: readonly string[]
  readonly usesWasi: boolean
  readonly entry: '_start' | '_initialize' | null
}

export type WorkerRequest =
  | { readonly op: 'init', readonly id: number, readonly setup: WorkerSetup, readonly budget: bigint, readonly state: Uint8Array | null }
  | { readonly op: 'tick', readonly id: number, readonly budget: bigint, readonly deadline?: bigint | null }
  | { readonly op: 'checkpoint', readonly id: number }

export type FailureKind = 'trap' | 'abi' | 'exit'

export type WorkerReply =
  | { readonly type: 'reply', readonly id: number, readonly ok: true, readonly more?: boolean, readonly elapsedNs?: bigint, readonly state?: Uint8Array }
  | { readonly type: 'reply', readonly id: number, readonly ok: false, readonly kind: FailureKind, readonly message: string }

export interface WorkerLog {
  readonly type: 'log'
  /** `agent` for `igor.log_emit`, `stdout`/`stderr` for WASI writes to fd 1/2. */
  readonly stream: 'agent' | 'stdout' | 'stderr'
  readonly line: string
}

export type WorkerMessage = WorkerReply | WorkerLog
