import { Worker } from 'node:worker_threads'

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
 * Keeps one agent worker started ahead of need. Starting a worker thread
 * (isolate, module loading, WASI) costs tens of milliseconds, which would
 * otherwise sit inside a migration's authority gap and every restart; with a
 * spare ready, loading an agent only instantiates its module.
 */
export class WorkerPool {
  private spare: Worker | null = null
  private spareDead = false
  private refill: NodeJS.Timeout | null = null

  /** A started worker for one agent; the caller owns it from now on. */
  take(): Worker {
    let worker = this.spare
    if (worker === null || this.spareDead) worker = spawn()
    this.spare = null
    worker.ref()
    this.scheduleRefill()
    return worker
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
    if (spare !== null) await spare.terminate()
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
