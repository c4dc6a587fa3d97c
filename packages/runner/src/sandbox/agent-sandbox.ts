import type { Worker } from 'node:worker_threads'
import type { Logger } from '../logger.js'
import type { FailureKind, WorkerMessage, WorkerReply, WorkerRequest, WorkerSetup } from './messages.js'
import { workerPool } from './worker-pool.js'

export type SandboxFailure = FailureKind | 'timeout' | 'crashed' | 'out-of-memory' | 'terminated' | 'deadline'

/** A tick, init or checkpoint that did not complete; the sandbox is unusable afterwards. */
export class SandboxError extends Error {
  override readonly name = 'SandboxError'
  constructor(readonly kind: SandboxFailure, message: string) {
    super(message)
  }
}

export interface SandboxLimits {
  /** SPEC §5: a tick that runs longer is stopped by terminating the worker. */
  readonly tickTimeoutMs: number
  /** Instantiation, `agent_init` and resuming a large state take longer than a tick. */
  readonly initTimeoutMs: number
  readonly checkpointTimeoutMs: number
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { tickTimeoutMs: 100, initTimeoutMs: 10_000, checkpointTimeoutMs: 5_000 }

interface Pending {
  readonly id: number
  readonly resolve: (reply: WorkerReply & { ok: true }) => void
  readonly reject: (error: SandboxError) => void
  timer: NodeJS.Timeout
}

/**
 * The node-side handle of one agent running in its own worker thread.
 *
 * SPEC §5: an agent that loops, traps or exhausts memory must never hang or
 * crash the node. Every call carries a deadline; when it passes the worker is
 * terminated and the sandbox reports the failure, never a half-finished state.
 */
export class AgentSandbox {
  private readonly worker: Worker
  private pending: Pending | null = null
  private nextId = 1
  private dead: SandboxError | null = null
  private readonly exited: Promise<void>

  private constructor(private readonly limits: SandboxLimits, private readonly log: Logger) {
    this.worker = workerPool.take()
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message))
    this.worker.on('error', (error: Error & { code?: string }) => {
      const kind: SandboxFailure = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out-of-memory' : 'crashed'
      this.die(new SandboxError(kind, `agent worker ${kind === 'out-of-memory' ? 'ran out of memory' : 'crashed'}: ${error.message}`))
    })
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.die(new SandboxError('crashed', `agent worker exited with code ${code}`))
        resolve()
      })
    })
  }

  /** Starts the worker, instantiates the agent, runs `agent_init` and, when given, `agent_resume(state)`. */
  static async start(setup: WorkerSetup, options: { budget: bigint, state: Uint8Array | null, logger: Logger, limits?: Partial<SandboxLimits> }): Promise<AgentSandbox> {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits }
    const sandbox = new AgentSandbox(limits, options.logger)
    try {
      await sandbox.request({ op: 'init', id: 0, setup, budget: options.budget, state: options.state }, limits.initTimeoutMs)
    } catch (error) {
      await sandbox.terminate()
      throw error
    }
    return sandbox
  }

  get alive(): boolean {
    return this.dead === null
  }

  /** Runs one `agent_tick()`; `elapsedNs` is the time spent inside the agent. */
  async tick(budget: bigint, deadline: bigint | null = null): Promise<{ more: boolean, elapsedNs: bigint }> {
    // SPEC §5 / issue 12: `deadline` is the end of the lease (+ grace) on the
    // process.hrtime clock; a tick dispatched after it is refused, not run. The
    // sandbox stays usable ('deadline' does not kill the worker).
    if (deadline !== null && process.hrtime.bigint() > deadline) {
      throw new SandboxError('deadline', 'lease ended before the tick was dispatched; tick refused')
    }
    const reply = await this.request({ op: 'tick', id: 0, budget, deadline }, this.limits.tickTimeoutMs)
    return { more: reply.more === true, elapsedNs: reply.elapsedNs ?? 0n }
  }

  /** The agent's serialized state (`agent_checkpoint` + `agent_checkpoint_ptr`), copied out of its memory. */
  async checkpoint(): Promise<Uint8Array> {
    const reply = await this.request({ op: 'checkpoint', id: 0 }, this.limits.checkpointTimeoutMs)
    return reply.state ?? new Uint8Array(0)
  }

  async terminate(): Promise<void> {
    this.die(new SandboxError('terminated', 'agent stopped'))
    await this.worker.terminate()
    await this.exited
  }

  private request(request: WorkerRequest, timeoutMs: number): Promise<WorkerReply & { ok: true }> {
    if (this.dead !== null) return Promise.reject(this.dead)
    if (this.pending !== null) return Promise.reject(new SandboxError('crashed', 'sandbox is busy (one request at a time)'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const armedAt = performance.now()
      const pending: Pending = { id, resolve, reject, timer: setTimeout(() => this.onTimeout(pending, armedAt, timeoutMs), timeoutMs) }
      this.pending = pending
      this.worker.postMessage({ ...request, id })
    })
  }

  private onTimeout(pending: Pending, armedAt: number, timeoutMs: number): void {
    if (this.pending !== pending) return
    // A timer that fires far later than asked means the whole node was stalled
    // (SIGSTOP, VM freeze, a blocked event loop): the agent did not get its time,
    // so give it a fresh deadline instead of blaming it.
    const late = performance.now() - armedAt - timeoutMs
    if (late > Math.max(50, timeoutMs)) {
      const rearmedAt = performance.now()
      pending.timer = setTimeout(() => this.onTimeout(pending, rearmedAt, timeoutMs), timeoutMs)
      return
    }
    this.die(new SandboxError('timeout', `agent did not finish within ${timeoutMs} ms; stopped`))
    void this.worker.terminate()
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'log') {
      const fields = { src: message.stream }
      if (message.stream === 'stderr') this.log.warn(fields, message.line)
      else this.log.info(fields, message.line)
      return
    }
    const pending = this.pending
    if (pending === null || pending.id !== message.id) return
    this.pending = null
    clearTimeout(pending.timer)
    if (message.ok) {
      pending.resolve(message)
    } else {
      const error = new SandboxError(message.kind, message.kind === 'trap' ? `agent trapped: ${message.message}` : message.message)
      this.die(error)
      void this.worker.terminate()
      pending.reject(error)
    }
  }

  private die(error: SandboxError): void {
    if (this.dead === null) this.dead = error
    const pending = this.pending
    if (pending !== null) {
      this.pending = null
      clearTimeout(pending.timer)
      pending.reject(this.dead)
    }
  }
}
