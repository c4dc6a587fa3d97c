/**
 * Replay of one tick in a fresh sandbox (SPEC §12 "Replay of one tick").
 *
 * Same isolation and limits as a live tick: its own instance in a worker
 * thread (a thread of its own, or `beside` a given sandbox), the start
 * function and `_initialize`, but **not** `agent_init`; the state is restored
 * with `malloc` + `agent_resume`; `agent_tick` runs under the tick deadline
 * with the recorded values served in order (`log_emit` prints nothing, WASI
 * output is discarded); then `agent_checkpoint` is compared with the expected
 * state. Never runs on the node's event loop beyond posting messages.
 */
import { AgentSandbox, SandboxError, type SandboxLimits, type WorkerSetup, firstDifference, silentLogger } from '@igor/sandbox'

export interface ReplayTickInput {
  /** The agent as the live sandbox runs it (module, capabilities, WASI, entry). */
  readonly setup: WorkerSetup
  readonly tickNumber: bigint
  /** The agent's state before the tick. */
  readonly preState: Uint8Array
  /** The tick's event log, packed (`encodeEntries` / `TickRecorder.end()`). */
  readonly log: Uint8Array
  /** The state the live tick produced. */
  readonly expectedState: Uint8Array
  readonly limits?: Partial<SandboxLimits>
  /** Run in this live sandbox's worker (its own slot and instance) instead of a thread of its own. */
  readonly beside?: AgentSandbox
}

export type ReplayOutcome =
  | { readonly verified: true, readonly tickNumber: bigint, readonly ms: number }
  /** The replay could not complete: a hostcall that does not fit, leftover entries, a trap, a missed deadline. */
  | { readonly verified: false, readonly tickNumber: bigint, readonly ms: number, readonly failure: string }
  /**
   * The replay ran out of a resource the live tick had (its worker's heap, the deadline on a busy machine,
   * its thread): nothing is known about the tick, so it counts as skipped — never as a divergence
   * (SPEC §11 "Resources an agent controls").
   */
  | { readonly verified: false, readonly tickNumber: bigint, readonly ms: number, readonly skipped: string }
  /** The replay completed and produced a different state. */
  | { readonly verified: false, readonly tickNumber: bigint, readonly ms: number, readonly firstDiffByte: number, readonly replayedBytes: number, readonly expectedBytes: number }

/** The reference's reply texts (SPEC §12): `replay verification failed: <reason>` / `replay divergence at tick <n>, first diff byte <k>`. */
export function describeReplayOutcome(outcome: ReplayOutcome): string {
  if (outcome.verified) return `replay verified at tick ${outcome.tickNumber}`
  if ('skipped' in outcome) return `replay skipped at tick ${outcome.tickNumber}: ${outcome.skipped}`
  if ('failure' in outcome) return `replay verification failed: ${outcome.failure}`
  return `replay divergence at tick ${outcome.tickNumber}, first diff byte ${outcome.firstDiffByte}`
}

export async function replayTick(input: ReplayTickInput): Promise<ReplayOutcome> {
  const started = performance.now()
  const tickNumber = input.tickNumber
  const done = (rest: { failure: string } | { skipped: string } | { firstDiffByte: number, replayedBytes: number, expectedBytes: number } | null): ReplayOutcome => {
    const ms = performance.now() - started
    return rest === null ? { verified: true, tickNumber, ms } : { verified: false, tickNumber, ms, ...rest }
  }
  /** A failure of the replay's own resources is a skip; anything else the agent did is a failure. */
  const failed = (step: string, error: unknown): ReplayOutcome => exhausted(error)
    ? done({ skipped: `${step}: ${reason(error)}` })
    : done({ failure: `${step}: ${reason(error)}` })
  let sandbox: AgentSandbox
  try {
    sandbox = await AgentSandbox.start(
      { ...input.setup, observe: { mode: 'replay', log: input.log } },
      { budget: 0n, state: input.preState, logger: silentLogger, ...(input.limits !== undefined ? { limits: input.limits } : {}), ...(input.beside !== undefined ? { beside: input.beside } : {}) }
    )
  } catch (error) {
    return failed('resume', error)
  }
  try {
    let failure: string | null
    try {
      failure = (await sandbox.tick(0n)).replayFailure ?? null
    } catch (error) {
      return failed('agent_tick', error)
    }
    if (failure !== null) return done({ failure })
    let replayed: Uint8Array
    try {
      replayed = await sandbox.checkpoint()
    } catch (error) {
      return failed('checkpoint', error)
    }
    const diff = firstDifference(replayed, input.expectedState)
    return done(diff === -1 ? null : { firstDiffByte: diff, replayedBytes: replayed.byteLength, expectedBytes: input.expectedState.byteLength })
  } finally {
    await sandbox.terminate()
  }
}

/** What a busy or crowded node can cause in a replay that the live tick did not meet (SandboxError kinds). */
const RESOURCE_FAILURES: ReadonlySet<string> = new Set(['out-of-memory', 'timeout', 'deadline', 'evicted', 'moved', 'terminated', 'crashed'])

function exhausted(error: unknown): boolean {
  return error instanceof SandboxError && RESOURCE_FAILURES.has(error.kind)
}

function reason(error: unknown): string {
  if (error instanceof SandboxError) return error.message
  return error instanceof Error ? error.message : String(error)
}
