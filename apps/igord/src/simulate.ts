import { isIgorError } from '@igor/errors'
/**
 * `igord simulate <wasm> [--manifest f] [--ticks n] [--budget units] [--verify]
 * [--deterministic] [--seed n]` (SPEC §12): runs one agent locally — no
 * network, no files written — ticks back to back, and ends with one summary
 * line in the reference simulator's words. Exit 1 when any tick, replay or the
 * final checkpoint round trip failed; 2 for a bad command line.
 */
import { formatMicrocents } from '@igor/sandbox'
import { type SimulationResult, simulate } from '@igor/replay'
import type { Logger } from '@igor/runner'
import { parseBudget } from './flags.js'
import type { ParsedArgs } from './flags.js'

export interface SimulateIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

export interface SimulateCommand {
  readonly kind: 'simulate'
  readonly wasmPath: string
  readonly manifestPath?: string
  /** 0 = until the budget is exhausted. */
  readonly ticks: number
  readonly budget: bigint
  readonly verify: boolean
  /** null without `--deterministic`. */
  readonly deterministicSeed: bigint | null
}

const U64_MAX = (1n << 64n) - 1n
/** Ours: the reference runs until the budget is gone by default, which at µs ticks is effectively forever. */
const DEFAULT_TICKS = 100

export function parseSimulate(args: ParsedArgs): SimulateCommand {
  const wasmPath = args.positionals[0]
  if (wasmPath === undefined) throw args.usage('simulate needs the agent: igord simulate <wasm>')
  const ticks = args.read('ticks', DEFAULT_TICKS, (text) => {
    if (!/^\d{1,9}$/.test(text.trim())) throw new RangeError(`must be a whole number from 0 to 999999999, got ${JSON.stringify(text)}`)
    return Number(text.trim())
  })
  const deterministic = args.boolean('deterministic')
  const seed = args.read('seed', 0n, (text) => {
    if (!/^\d{1,20}$/.test(text.trim()) || BigInt(text.trim()) > U64_MAX) throw new RangeError(`must be a whole number from 0 to ${U64_MAX}, got ${JSON.stringify(text)}`)
    return BigInt(text.trim())
  })
  if (args.string('seed') !== undefined && !deterministic) throw args.usage('--seed only has a meaning with --deterministic')
  const manifest = args.string('manifest')
  return {
    kind: 'simulate',
    wasmPath,
    ...(manifest !== undefined ? { manifestPath: manifest } : {}),
    ticks,
    budget: args.read('budget', 1_000_000n, parseBudget),
    verify: args.boolean('verify'),
    deterministicSeed: deterministic ? seed : null
  }
}

/** The reference's summary, in one line. */
export function summaryLine(result: SimulationResult): string {
  return `Simulation complete: ticks_executed=${result.ticksExecuted} budget_consumed=${formatMicrocents(result.budgetConsumed)} ` +
    `budget_remaining=${formatMicrocents(result.budgetRemaining)} checkpoint_bytes=${result.checkpointBytes} ` +
    `replay_verified=${result.replayVerified} replay_failed=${result.replayFailed} errors=${result.errors.length}`
}

/** Agent output as plain lines: `[agent] …` for log_emit, `[stdout] …` / `[stderr] …` for WASI, `[sandbox] …` for cap notices. */
function agentLogger(io: SimulateIo): Logger {
  const line = (obj: object, msg?: string): void => {
    const src = (obj as { src?: string }).src ?? 'agent'
    io.stdout(`[${src}] ${msg ?? ''}\n`)
  }
  const logger: Logger = { debug: () => undefined, info: line, warn: line, error: line, child: () => logger }
  return logger
}

export async function runSimulate(command: SimulateCommand, io: SimulateIo): Promise<number> {
  const deterministic = command.deterministicSeed !== null
  let result: SimulationResult
  try {
    result = await simulate({
      wasmPath: command.wasmPath,
      ...(command.manifestPath !== undefined ? { manifestPath: command.manifestPath } : {}),
      ticks: command.ticks,
      budget: command.budget,
      verify: command.verify,
      deterministicSeed: command.deterministicSeed,
      agentLogger: agentLogger(io),
      onTick: (tick) => {
        // Under --deterministic the measured duration is left out, so two runs print the same bytes.
        const duration = deterministic ? '' : ` duration_us=${tick.elapsedNs / 1000n}`
        io.stdout(`Tick completed: tick=${tick.tick}${duration} cost=${formatMicrocents(tick.cost)} observations=${tick.observations}\n`)
      }
    })
  } catch (error) {
    const name = (error as { name?: string }).name
    if (isIgorError(error) || name === 'SimulationSetupError') {
      io.stderr(`igord: simulate: ${(error as Error).message}\n`)
      return 1
    }
    throw error
  }
  io.stdout(`${summaryLine(result)}\n`)
  for (const detail of result.errors) io.stderr(`Simulation error: ${detail}\n`)
  return result.errors.length > 0 ? 1 : 0
}
