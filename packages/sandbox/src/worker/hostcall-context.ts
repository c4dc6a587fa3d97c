/**
 * What every hostcall group is given (SPEC §11): the agent's memory, the call
 * in progress, the output caps and the way to the node. Its own file so the
 * groups and the table that links them (`hostcalls.ts`) do not import each other.
 */
import type { HttpCall } from '../effects/http.js'
import type { HttpAnswer } from '../pool/messages.js'
import type { WalletPayAnswer, WalletPayCall } from '../effects/wallet-pay.js'
import type { CallState } from './call-state.js'
import type { AgentMemory } from './memory.js'
import type { LineAssembler, OutputCaps } from './output-caps.js'

/** The way to the node for `http_request` (SPEC §13): posts the call and blocks until the node answers. */
export interface HttpBridge {
  /** Posts the call and blocks until the node answers (or gives up). */
  send(call: HttpCall): HttpAnswer
}

/**
 * SPEC §16 "The agent decides": the worker's side of `request_move`. Answers
 * −1 when the manifest disables migration, −2 when a move is already pending
 * (the node said so with this tick, or the agent asked earlier in it), else
 * notes the maximum (sent to the node with the tick's reply) and answers 0.
 */
export interface MoveDesk {
  request(maxPricePerSecond: bigint): number
}

/** The way to the node for `wallet_pay` (SPEC §15): posts the call and blocks until the node answers. */
export interface PayBridge {
  send(call: WalletPayCall): WalletPayAnswer
}

export interface HostcallContext {
  readonly memory: AgentMemory
  /** The call in progress: deadline, proc_exit. */
  readonly call: CallState
  /** Per-call output caps (SPEC §11). */
  readonly output: OutputCaps
  readonly stdout: LineAssembler
  readonly stderr: LineAssembler
  /** The budget the node sent with the current call (microcents). */
  readonly budget: () => bigint
  /** SPEC §15: the node's price per second (microcents) the node sent with the current call, or its last one. */
  readonly price: () => bigint
  /** SPEC §15: the agent's receipts (sealed, then the open one; oldest first) as the node last sent them. */
  readonly receipts: () => readonly Uint8Array[]
  /** SPEC §16 `request_move`: notes the request (see `MoveDesk`) and returns its answer. */
  readonly move: MoveDesk
  /** The way to the node for `http_request` (SPEC §13), or null outside `agent_tick`. */
  readonly http: () => HttpBridge | null
  /** The way to the node for `wallet_pay` (SPEC §15), or null outside `agent_tick`. */
  readonly pay: () => PayBridge | null
  /** SPEC §15: a payment the node made was taken off the budget; `wallet_balance` answers the rest for the rest of the call. */
  readonly spent: (amount: bigint) => void
}
