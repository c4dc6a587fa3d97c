import { availableParallelism } from 'node:os'
import type { Logger, NodeRuntime } from '@igor/runner'
import type { StartOptions } from './start-options.js'

/**
 * How many agents load at once. Loading one is mostly a worker thread
 * starting (isolate, module evaluation) plus a few small file reads, so a
 * little more than one per core keeps the cores busy while some loads wait
 * on the disk. `IGORD_LOAD_CONCURRENCY` overrides it (benchmarks).
 */
export function loadConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.IGORD_LOAD_CONCURRENCY)
  if (Number.isSafeInteger(fromEnv) && fromEnv > 0) return fromEnv
  return Math.max(2, availableParallelism() * 2)
}

/**
 * Starts the `--run-agent`/`--run-agents` agents in parallel, bounded by
 * `concurrency` (issue 11: 1000 agents one after another took 102 s). The
 * first agent that fails to load stops the start, as before (README
 * "Decisions"): no new loads begin, the ones under way finish, and that first
 * error is thrown.
 */
export async function startAgents(
  runtime: NodeRuntime,
  agents: StartOptions['agents'],
  budget: bigint,
  log: Logger,
  concurrency = loadConcurrency()
): Promise<void> {
  if (agents.length === 0) return
  const startedAt = performance.now()
  let next = 0
  let done = 0
  let failure: { error: unknown } | null = null
  let lastReport = startedAt
  const worker = async (): Promise<void> => {
    while (failure === null && next < agents.length) {
      const agent = agents[next++] as StartOptions['agents'][number]
      try {
        await runtime.startAgent({ ...agent, budget })
      } catch (error) {
        failure ??= { error }
        return
      }
      done++
      const now = performance.now()
      if (agents.length >= 50 && now - lastReport >= 2000) {
        lastReport = now
        log.info({ loaded: done, total: agents.length }, `agents loading: ${done}/${agents.length}`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, agents.length) }, worker))
  if (failure !== null) throw (failure as { error: unknown }).error
  log.info({ agents: done, ms: Math.round(performance.now() - startedAt), concurrency }, `${done} agent(s) started`)
}
