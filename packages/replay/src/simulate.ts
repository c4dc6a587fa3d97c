/**
 * `igord simulate` (SPEC §12): one agent, locally, no network and no files
 * written; ticks back to back in the same sandbox a node uses; optionally
 * every tick replayed, optionally with a deterministic clock and random stream.
 * It serves ids 5 and 6 (no receipts: count 0), 7 (the simulated price) and
 * 9 (`wallet_pay` against the simulated budget, `simulate-pay.ts`).
 */
import { AgentSandbox, type Logger, SandboxError, type WorkerSetup, chargeTick, firstDifference, loadManifest, prepareAgentModule, readWasmFile, silentLogger } from '@igor/sandbox'
import { describeReplayOutcome, replayTick } from './replay-tick.js'
import { attachSimulatedPayments } from './simulate-pay.js'

export interface SimulateOptions {
  readonly wasmPath: string
  readonly manifestPath?: string
  /** Ticks to run; 0 = until the budget is exhausted. */
  readonly ticks: number
  /** Initial budget, microcents. */
  readonly budget: bigint
  /** Microcents per second (SPEC §5 default 1000). */
  readonly pricePerSecond?: bigint
  /** Replay every tick. */
  readonly verify: boolean
  /** `--deterministic --seed n`: the fixed clock and Go PCG stream; null = the host's clock and randomness. */
  readonly deterministicSeed: bigint | null
  /** Receives the agent's log lines (`src` agent/stdout/stderr). */
  readonly agentLogger: Logger
  /** Called after every tick (for progress lines). */
  readonly onTick?: (tick: TickSummary) => void
}

export interface TickSummary {
  readonly tick: number
  readonly elapsedNs: bigint
  readonly cost: bigint
  readonly observations: number
}

export interface SimulationResult {
  readonly ticksExecuted: number
  readonly budgetConsumed: bigint
  readonly budgetRemaining: bigint
  readonly checkpointBytes: number
  readonly replayVerified: number
  readonly replayFailed: number
  readonly errors: readonly string[]
}

/**
 * Ours: under `--deterministic` every tick is charged this much virtual time
 * instead of its measured time, so the budget figures (and `wallet_balance`)
 * are repeatable run to run like everything else.
 */
export const DETERMINISTIC_TICK_NS = 1_000_000n

/** Runs the simulation. Setup failures (unreadable or invalid agent, bad manifest) throw `RunnerError`. */
export async function simulate(options: SimulateOptions): Promise<SimulationResult> {
  const wasm = await readWasmFile(options.wasmPath)
  const manifest = await loadManifest(options.wasmPath, options.manifestPath)
  const prepared = await prepareAgentModule(wasm, { path: options.wasmPath, manifest })
  const base: WorkerSetup = {
    agentId: 'simulator',
    module: prepared.module,
    capabilities: [...prepared.capabilities],
    usesWasi: prepared.usesWasi,
    entry: prepared.entry,
    // SPEC §16: request_move answers as on a node (−1 when the manifest disables migration); nothing moves here.
    migrationEnabled: manifest.migration.enabled
  }
  const observe = options.deterministicSeed === null ? { mode: 'record' as const } : { mode: 'record' as const, deterministicSeed: options.deterministicSeed }
  const price = options.pricePerSecond ?? 1000n
  const errors: string[] = []
  let budget = options.budget
  let carry = 0n
  let ticksExecuted = 0
  let replayVerified = 0
  let replayFailed = 0
  let checkpointBytes = 0

  let sandbox: AgentSandbox
  try {
    sandbox = await AgentSandbox.start({ ...base, observe }, { budget, price, state: null, logger: options.agentLogger })
  } catch (error) {
    throw new SimulationSetupError(`agent_init: ${message(error)}`)
  }
  let current = 0
  // SPEC §15 wallet_pay: payments come off the simulated budget (and count as consumed).
  attachSimulatedPayments(sandbox, manifest, { get: () => budget, spend: (amount) => { budget -= amount } }, () => current, options.deterministicSeed)
  try {
    const limit = options.ticks === 0 ? Number.POSITIVE_INFINITY : options.ticks
    for (let tick = 1; tick <= limit && budget > 0n; tick++) {
      current = tick
      let reply
      try {
        reply = await sandbox.tick(budget, null, { price }) // SPEC §15: node_price answers the simulated price
      } catch (error) {
        errors.push(`tick ${tick}: ${message(error)}`)
        break
      }
      const elapsedNs = options.deterministicSeed === null ? reply.elapsedNs : DETERMINISTIC_TICK_NS
      const charge = chargeTick(budget, price, elapsedNs, carry)
      budget = charge.budget
      carry = charge.carry
      ticksExecuted = tick
      const observations = reply.observations ?? 0
      if (options.verify) {
        try {
          // SPEC §11: a tick over the event log's caps is unreplayable, and a replay out of its own
          // resources is unknown: neither is a failure of the agent.
          const record = await sandbox.tickRecord()
          const outcome = record === null ? null : await replayTick({ setup: base, tickNumber: BigInt(tick), preState: record.pre, log: record.log, expectedState: record.post })
          if (outcome?.verified === true) {
            replayVerified++
          } else if (outcome !== null && !('skipped' in outcome)) {
            replayFailed++
            errors.push(`tick ${tick} replay: ${describeReplayOutcome(outcome)}`)
          }
        } catch (error) {
          replayFailed++
          errors.push(`tick ${tick} replay: ${message(error)}`)
        }
      }
      options.onTick?.({ tick, elapsedNs, cost: charge.cost, observations })
    }
    // The final checkpoint round trip: what a restart does (a fresh instance, agent_init, resume), then the same bytes again.
    try {
      const final = await sandbox.checkpoint()
      checkpointBytes = final.byteLength
      const again = await roundTrip({ ...base, observe }, final, price)
      const diff = firstDifference(again, final)
      if (diff !== -1) errors.push(`checkpoint round-trip: state differs after resume (first diff byte ${diff})`)
    } catch (error) {
      errors.push(`checkpoint round-trip: ${message(error)}`)
    }
  } finally {
    await sandbox.terminate()
  }
  return {
    ticksExecuted,
    budgetConsumed: options.budget - budget,
    budgetRemaining: budget,
    checkpointBytes,
    replayVerified,
    replayFailed,
    errors
  }
}

async function roundTrip(setup: WorkerSetup, state: Uint8Array, price: bigint): Promise<Uint8Array> {
  const fresh = await AgentSandbox.start(setup, { budget: 0n, price, state, logger: silentLogger })
  try {
    return await fresh.checkpoint()
  } finally {
    await fresh.terminate()
  }
}

/** The agent could not even start (its `agent_init` or start function failed). */
export class SimulationSetupError extends Error {
  override readonly name = 'SimulationSetupError'
  readonly code = 'AGENT_INIT_FAILED'
}

function message(error: unknown): string {
  if (error instanceof SandboxError) return error.message
  return error instanceof Error ? error.message : String(error)
}
