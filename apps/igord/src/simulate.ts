/**
 * `igord simulate <wasm> [--manifest f] [--ticks n] [--budget units] [--verify]
 * [--deterministic] [--seed n]` (SPEC §12): runs one agent locally — no
 * network, no files written — ticks back to back, and ends with one summary
 * line in the reference simulator's words. Exit 1 when any tick, replay or the
 * final checkpoint round trip failed; 2 for a bad command line.
 */
import { parseArgs } from 'node:util'
import { formatMicrocents, simulate, unitsToMicrocents } from '@igor/runner'
import type { Logger, SimulationResult } from '@igor/runner'

export interface SimulateIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

export interface SimulateOptions {
  readonly wasmPath: string
  readonly manifestPath?: string
  readonly ticks: number
  readonly budget: bigint
  readonly verify: boolean
  readonly deterministicSeed: bigint | null
}

export const SIMULATE_USAGE = `Usage:
  igord simulate <wasm> [flags]   run one agent locally: no network, no files written

Flags:
  --manifest <path>   capability manifest (default: <agent>.manifest.json)
  --ticks <n>         ticks to run, back to back (default 100; 0 = until the budget is exhausted)
  --budget <units>    initial budget in currency units (default 1.0)
  --verify            replay every tick in a fresh sandbox and compare the state
  --deterministic     clock_now from 1s plus 1s per call, rand_bytes from Go's PCG(seed, seed)
  --seed <n>          the PCG seed for --deterministic (default 0)
`

/** A bad simulate command line (exit 2). */
export class SimulateUsageError extends Error {
  override readonly name = 'SimulateUsageError'
}

const U64_MAX = (1n << 64n) - 1n

export function parseSimulateArgs(argv: readonly string[]): SimulateOptions | 'help' {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        manifest: { type: 'string' },
        ticks: { type: 'string' },
        budget: { type: 'string' },
        verify: { type: 'boolean' },
        deterministic: { type: 'boolean' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (error) {
    throw new SimulateUsageError((error as Error).message.split('\n', 1)[0] ?? 'bad arguments')
  }
  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  if (positionals.length === 0) throw new SimulateUsageError('simulate needs the agent: igord simulate <wasm>')
  if (positionals.length > 1) throw new SimulateUsageError(`simulate takes one agent, got ${positionals.length}: ${positionals.join(' ')}`)
  const ticksText = values.ticks ?? '100'
  if (!/^\d{1,9}$/.test(ticksText)) throw new SimulateUsageError(`--ticks must be a whole number from 0 to 999999999 (got ${JSON.stringify(ticksText)})`)
  let budget: bigint
  try {
    budget = unitsToMicrocents(values.budget ?? '1.0')
  } catch {
    throw new SimulateUsageError(`--budget must be a non-negative amount with at most 6 decimals (got ${JSON.stringify(values.budget)})`)
  }
  let seed: bigint | null = null
  if (values.seed !== undefined) {
    if (values.deterministic !== true) throw new SimulateUsageError('--seed only has a meaning with --deterministic')
    if (!/^\d{1,20}$/.test(values.seed) || BigInt(values.seed) > U64_MAX) {
      throw new SimulateUsageError(`--seed must be a whole number from 0 to ${U64_MAX} (got ${JSON.stringify(values.seed)})`)
    }
    seed = BigInt(values.seed)
  }
  return {
    wasmPath: positionals[0] as string,
    ...(values.manifest !== undefined ? { manifestPath: values.manifest } : {}),
    ticks: Number(ticksText),
    budget,
    verify: values.verify === true,
    deterministicSeed: values.deterministic === true ? (seed ?? 0n) : null
  }
}

/** The reference's summary, in one line. */
export function summaryLine(result: SimulationResult): string {
  return `Simulation complete: ticks_executed=${result.ticksExecuted} budget_consumed=${formatMicrocents(result.budgetConsumed)} ` +
    `budget_remaining=${formatMicrocents(result.budgetRemaining)} checkpoint_bytes=${result.checkpointBytes} ` +
    `replay_verified=${result.replayVerified} replay_failed=${result.replayFailed} errors=${result.errors.length}`
}

/** Agent output as plain lines: `[agent] …` for log_emit, `[stdout] …` / `[stderr] …` for WASI. */
function agentLogger(io: SimulateIo): Logger {
  const line = (obj: object, msg?: string): void => {
    const src = (obj as { src?: string }).src ?? 'agent'
    io.stdout(`[${src}] ${msg ?? ''}\n`)
  }
  const logger: Logger = { debug: () => undefined, info: line, warn: line, error: line, child: () => logger }
  return logger
}

export async function runSimulate(argv: readonly string[], io: SimulateIo): Promise<number> {
  let options: SimulateOptions | 'help'
  try {
    options = parseSimulateArgs(argv)
  } catch (error) {
    if (!(error instanceof SimulateUsageError)) throw error
    io.stderr(`igord: ${error.message} (see igord simulate --help)\n`)
    return 2
  }
  if (options === 'help') {
    io.stdout(SIMULATE_USAGE)
    return 0
  }
  const deterministic = options.deterministicSeed !== null
  let result: SimulationResult
  try {
    result = await simulate({
      wasmPath: options.wasmPath,
      ...(options.manifestPath !== undefined ? { manifestPath: options.manifestPath } : {}),
      ticks: options.ticks,
      budget: options.budget,
      verify: options.verify,
      deterministicSeed: options.deterministicSeed,
      agentLogger: agentLogger(io),
      onTick: (tick) => {
        // Under --deterministic the measured duration is left out, so two runs print the same bytes.
        const duration = deterministic ? '' : ` duration_us=${tick.elapsedNs / 1000n}`
        io.stdout(`Tick completed: tick=${tick.tick}${duration} cost=${formatMicrocents(tick.cost)} observations=${tick.observations}\n`)
      }
    })
  } catch (error) {
    const name = (error as { name?: string }).name
    if (name === 'RunnerError' || name === 'SimulationSetupError') {
      io.stderr(`igord: simulate: ${(error as Error).message}\n`)
      return 1
    }
    throw error
  }
  io.stdout(`${summaryLine(result)}\n`)
  for (const detail of result.errors) io.stderr(`Simulation error: ${detail}\n`)
  return result.errors.length > 0 ? 1 : 0
}
