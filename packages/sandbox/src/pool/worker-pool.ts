import { Worker } from 'node:worker_threads'
import { WorkerHost } from './worker-host.js'

/** Resolves the worker script both from dist/ (built) and from src/ (vitest): tests run after the build. */
function workerUrl(): URL {
  const here = import.meta.url
  if (here.endsWith('.ts')) return new URL('../../dist/agent-worker.js', here)
  return new URL('./agent-worker.js', here)
}

function spawn(): Worker {
  const worker = new Worker(workerUrl(), {
    // The agent's linear memory is capped in the module itself (SPEC §5, 64 MiB);
    // these bound the worker's own JS heap so one agent cannot starve the node.
    resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4, stackSizeMb: 4 },
    stdout: false,
    stderr: false
  })
  worker.unref() // an idle spare must not keep the process alive
  return worker
}

/** How long after a spare is taken its replacement is started: not during the hand-off it serves. */
const REFILL_DELAY_MS = 250

/**
 * Agents per shared worker by default (issue 11). Each worker thread costs a
 * V8 isolate (~4.5 MiB of Node's own start-up code, ~20 ms of CPU to start);
 * sharing it among 16 agents brings that under 0.5 MiB per agent, while a
 * call that must be stopped by terminating the thread sends at most 15
 * neighbours back to their last checkpoint. `1` gives every agent its own.
 */
export const DEFAULT_AGENTS_PER_WORKER = 16

/**
 * Where agent sandboxes run: worker threads started ahead of need, and the
 * shared workers that still have free slots.
 *
 * Starting a worker thread (isolate, module loading) costs tens of
 * milliseconds, which would otherwise sit inside a migration's authority gap
 * and every restart; with a spare ready, loading an agent only instantiates
 * its module.
 */
export class WorkerPool {
  private spare: Worker | null = null
  private spareDead = false
  private refill: NodeJS.Timeout | null = null
  /** Every live host; a few dozen even at a thousand agents, so placing scans them. */
  private readonly all = new Set<WorkerHost>()

  /**
   * A slot for one agent. `perWorker` 1 (the default) gives the agent a
   * worker of its own; more lets it share one with up to `perWorker - 1`
   * other agents placed the same way.
   */
  place(perWorker = 1): WorkerHost {
    if (perWorker > 1) {
      let best: WorkerHost | null = null
      // The fullest host with room: agents pack into few threads.
      for (const host of this.all) {
        if (host.free <= 0 || host.capacity !== perWorker) continue
        if (best === null || host.free < best.free) best = host
      }
      if (best !== null) return best
    }
    const host = new WorkerHost(this.take(), Math.max(1, perWorker), (closed) => { this.all.delete(closed) })
    this.all.add(host)
    return host
  }

  /** Starts the spare now, e.g. when a node opens, so the first agent gets it too. */
  prewarm(): void {
    if (this.spare !== null && !this.spareDead) return
    const worker = spawn()
    this.spare = worker
    this.spareDead = false
    // A spare that fails before it is used is simply replaced at the next take().
    worker.once('error', () => { if (this.spare === worker) this.spareDead = true })
    worker.once('exit', () => { if (this.spare === worker) this.spareDead = true })
  }

  async close(): Promise<void> {
    if (this.refill !== null) clearTimeout(this.refill)
    this.refill = null
    const spare = this.spare
    this.spare = null
    // Hosts are not stopped here: the pool is process-wide (tests run several nodes in one process),
    // and a host stops its thread itself when its last agent is released.
    if (spare !== null) await spare.terminate()
  }

  /** Threads hosting agents now (tests, diagnostics). */
  get hosts(): number {
    return this.all.size
  }

  /** A started worker thread; the caller owns it from now on. */
  private take(): Worker {
    let worker = this.spare
    if (worker === null || this.spareDead) worker = spawn()
    this.spare = null
    this.scheduleRefill()
    return worker
  }

  private scheduleRefill(): void {
    if (this.refill !== null) return
    this.refill = setTimeout(() => {
      this.refill = null
      this.prewarm()
    }, REFILL_DELAY_MS)
    this.refill.unref()
  }
}

/** The process-wide pool used by `AgentSandbox.start`. */
export const workerPool = new WorkerPool()
