import type { MessagePort } from 'node:worker_threads'
import { HTTP_ERR_TRANSPORT } from '../effects/http-abi.js'
import type { HttpCall, HttpCallResult } from '../effects/http.js'
import { WALLET_PAY_ERR_BUDGET } from '../effects/wallet-pay.js'
import type { WalletPayAnswer, WalletPayCall } from '../effects/wallet-pay.js'
import { SandboxError } from '../errors.js'
import type { Logger } from '../logger.js'
import { CALL_STAMPS } from '../worker/call-state.js'
import { OUTPUT_LIMITS } from '../worker/output-caps.js'
import type { HttpAnswer, SlotlessRequest, WorkerHttpCall, WorkerPayCall, WorkerMessage, WorkerReply, WorkerRequest, WorkerSetup } from './messages.js'
import { TICK_WALL_LIMIT_MS } from './messages.js'
import { deadlineVerdict, processStallClock } from './stall-watch.js'
import type { StallClock } from './stall-watch.js'
import { MAX_STARVATION_FORGIVEN_MS, PROBE_MS, sampleThread, starvedDuring } from './thread-stats.js'
import type { ThreadSample } from './thread-stats.js'
import { workerPool } from './worker-pool.js'
import { TickWire } from './tick-wire.js'
import { OUTPUT_RATE, OutputRate } from './output-rate.js'
import type { SlotClient, WorkerHost, WorkerLoss } from './worker-host.js'
import type { LastTickRecord } from '../observe/worker-observe.js'
import type { WorkerMarks } from '../containment/call-marker.js'

/** A tick request as `tick()` fills it in (its optional fields set only when sent). */
type TickRequest = { -readonly [K in keyof Extract<SlotlessRequest, { op: 'tick' }>]: Extract<SlotlessRequest, { op: 'tick' }>[K] }

/** One tick's outcome as the node sees it. */
/** Per-tick values the node sends with `tick` beyond the budget and the lease's deadline. */
export interface TickOptions {
  /** SPEC §15: the node's price per second (microcents) when the tick is dispatched; `node_price` answers it. */
  readonly price?: bigint
  /**
   * SPEC §15: the agent's `receipts` blob (sealed, then the open one), what
   * `wallet_receipt_count`/`wallet_receipt` serve from this tick on. Sent to
   * the worker only when it is another array than the last one sent.
   */
  readonly receipts?: Uint8Array
  /** SPEC §16: a move the agent asked for is still being placed (`request_move` answers −2 during this tick). */
  readonly movePending?: boolean
}

export interface TickResult {
  readonly more: boolean
  readonly elapsedNs: bigint
  /** Observation entries the tick recorded (SPEC §12). */
  readonly observations: number
  /** Highest hostcall id the tick used. */
  readonly highestId: number
  /** False when nothing was recorded (not recording, or the log exceeded its cap). */
  readonly recorded: boolean
  /** Replay sandboxes only: why the replay failed, null when it fit. */
  readonly replayFailure?: string | null
  /** SPEC §16: the agent called `request_move` (answered 0) with this maximum price, during this tick or before it. */
  readonly moveRequest?: bigint
}

export { SandboxError, type SandboxFailure } from '../errors.js'

export interface SandboxLimits {
  /** SPEC §11: a tick that runs longer is stopped by terminating the worker. */
  readonly tickTimeoutMs: number
  /** Instantiation, the start function, `agent_init` and resuming a large state (`malloc` + `agent_resume`). */
  readonly initTimeoutMs: number
  /** `agent_checkpoint` + `agent_checkpoint_ptr`. */
  readonly checkpointTimeoutMs: number
  /**
   * SPEC §11 "Sharing a thread, fairly": in a worker shared with other
   * agents, loading (start function, `agent_init`, resume) and checkpoints
   * (and a tick's state copy) get at most this. A call that needs more is
   * interrupted and goes on in a worker of its own, with the full deadline,
   * before any neighbour misses a tick.
   */
  readonly sharedCallMs: number
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { tickTimeoutMs: 100, initTimeoutMs: 10_000, checkpointTimeoutMs: 5_000, sharedCallMs: 500 }

/**
 * Performs an agent's HTTP request (SPEC §13): the node side, given by the
 * AgentHost (it knows the agent, the tick number and the lease).
 * `maxWaitMs` is what is left of the tick's wall-time budget.
 */
export type HttpHandler = (call: HttpCall, callIndex: number, maxWaitMs: number) => Promise<HttpCallResult & { maxResponseBytes?: number }>

/**
 * SPEC §15 `wallet_pay`: the node side, given by the AgentHost (it holds the
 * options, the lease, the budget, the agent's key and the payments log). It
 * decides and deducts in one synchronous step; it may then make the payment
 * durable before answering (the worker waits, and the wait is not charged).
 */
export type WalletPayHandler = (call: WalletPayCall) => WalletPayAnswer | Promise<WalletPayAnswer>

/** How long a call the worker has not even begun may wait (the worker is unresponsive after that). */
const UNSTARTED_WAIT_MS = 10_000
/** After the worker marked its reply as posted, how long the node waits for it before giving up. */
const REPLY_GRACE_MS = 1_000
/**
 * SPEC §11 "Sharing a thread, fairly": after asking a running call to stop,
 * how long the node waits for the agent's interruption checks to unwind it
 * before terminating the thread (the backstop for a hostcall that blocks).
 */
export const INTERRUPT_GRACE_MS = 3_000

interface Pending {
  readonly id: number
  readonly deadlineNs: bigint
  readonly postedAtNs: bigint
  readonly stalledAtPost: bigint
  readonly resolve: (reply: WorkerReply & { ok: true }) => void
  readonly reject: (error: SandboxError) => void
  /** SPEC §11 fair share: an expiry of this call (`call`) or of its second phase (`phase`) is a move to a worker of its own, not a failure. */
  readonly moveOnExpiry: 'call' | 'phase' | null
  timer: NodeJS.Timeout
  graceUntilNs: bigint | null
  /** Time the worker spent blocked on HTTP in this call (SPEC §13: forgiven by the deadline), and the start of a wait in progress. */
  httpWaitNs: bigint
  httpSince: bigint | null
  /** Last scheduler sample of the agent's thread while probing for starvation, and how much was forgiven. */
  probe: ThreadSample | null
  starvationForgivenMs: number
  lines: number
  bytes: number
  dropped: number
}

/**
 * The node-side handle of one agent running in a worker thread (its own, or
 * a slot in one shared with other agents: `worker-host.ts`).
 *
 * SPEC §11: an agent that loops, traps, sleeps or floods must never hang or
 * crash the node. Every call carries a deadline measured from when the worker
 * started it, minus only the time the whole process was stopped (measured by
 * a watchdog thread, never by the agent's traffic); when it passes the worker
 * is terminated and the sandbox reports the failure, never a half-finished
 * state. Output is capped in the worker and counted again here.
 */
export class AgentSandbox implements SlotClient {
  readonly agentId: string
  private readonly host: WorkerHost
  private readonly slot: number
  private pending: Pending | null = null
  private nextId = 1
  private dead: SandboxError | null = null
  private readonly stamps = new BigInt64Array(new SharedArrayBuffer(CALL_STAMPS.length * 8))
  /** SPEC §11 tick path: ticks that fit go through this block with a number as the message (`tick-wire.ts`). */
  private readonly wire = new TickWire()
  private uncharged = 0n
  /** SPEC §15: the receipts blob last sent to the worker (sent again only when another one is given). */
  private receiptsSent: Uint8Array | null = null
  /** SPEC §15: the price last sent to the worker (it keeps it; sent again only when it changes). */
  private priceSent: bigint | null = null
  private httpHandler: HttpHandler | null = null
  private payHandler: WalletPayHandler | null = null
  /** Output over time (SPEC §11): lines dropped by the rate limit since the last report, and when that was. */
  private readonly outputRate = new OutputRate()
  private rateDropped = 0
  private rateReportedAt = 0
  /** The call asked to stop (SPEC §11 interruption), until the worker has unwound it; and the stop in progress. */
  private interrupting: number | null = null
  private stopping: Promise<void> | null = null
  /** SPEC §11: where the worker marks this agent's ticks and checkpoints when it starts them (set by `markCalls`). */
  private marks: WorkerMarks | null = null
  /** The marks the worker holds (it keeps them for every later call): sent once, not cloned (with their SharedArrayBuffer) into every tick. */
  private marksSent: WorkerMarks | null = null

  private constructor(agentId: string, private readonly limits: SandboxLimits, private readonly log: Logger, private readonly clock: StallClock, perWorker: number, beside?: AgentSandbox) {
    this.agentId = agentId
    this.host = beside !== undefined && beside.alive ? beside.host : workerPool.place(perWorker)
    this.slot = this.host.attach(this)
  }

  /**
   * Places the agent in a worker, instantiates it, runs `agent_init` and,
   * when given, `agent_resume(state)`. `agentsPerWorker` > 1 lets it share a
   * worker thread with other agents started the same way (issue 11; see
   * `worker-host.ts` for what sharing costs); the default gives it its own.
   * `beside` places it in that live sandbox's worker instead, whatever its
   * capacity: a migration's arrival replays its last tick in the worker it
   * is on probation in, with no second thread to start (SPEC §12).
   * `price` (SPEC §15) is what `node_price` answers until a tick sends another.
   */
  static async start(setup: WorkerSetup, options: { budget: bigint, price?: bigint, state: Uint8Array | null, logger: Logger, limits?: Partial<SandboxLimits>, stallClock?: StallClock, agentsPerWorker?: number, beside?: AgentSandbox }): Promise<AgentSandbox> {
    const limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits }
    let perWorker = options.agentsPerWorker ?? 1
    let beside = options.beside
    let charged = 0n
    for (let attempt = 1; ; attempt++) {
      const sandbox = new AgentSandbox(setup.agentId, limits, options.logger, options.stallClock ?? processStallClock(), perWorker, beside)
      // SPEC §11 fair share: in a shared worker, loading gets a small slice of the thread.
      const deadlineMs = sandbox.shareMs(limits.initTimeoutMs)
      try {
        const reply = await sandbox.request({ op: 'init', id: 0, deadlineMs, setup, budget: options.budget, ...(options.price !== undefined ? { price: options.price } : {}), state: options.state, stamps: sandbox.stamps.buffer, wire: sandbox.wire.buffer })
        if (options.price !== undefined) sandbox.priceSent = options.price
        sandbox.uncharged += reply.elapsedNs + charged
        return sandbox
      } catch (error) {
        await sandbox.terminate()
        if (error instanceof SandboxError && error.kind === 'timeout' && deadlineMs < limits.initTimeoutMs) {
          // Interrupted inside its worker; its neighbours lost nothing. It loads again, alone, with the full deadline (the slice is charged).
          charged += error.elapsedNs
          options.logger.info({ src: 'sandbox', sharedCallMs: deadlineMs }, `loading needs more than its ${deadlineMs} ms share of a shared worker thread; the agent moves to a worker of its own`)
          perWorker = 1
          beside = undefined
          continue
        }
        // Evicted while starting (a neighbour's call took the thread): not this agent's failure.
        // Start again in another slot; the third attempt gets a thread of its own.
        if (error instanceof SandboxError && error.kind === 'evicted' && attempt < 3) {
          if (attempt === 2) perWorker = 1
          continue
        }
        throw error
      }
    }
  }

  get alive(): boolean {
    return this.dead === null
  }

  /** True when the instance is gone through no fault of its own (a shared worker was stopped): restart it from its checkpoint. */
  get evicted(): boolean {
    return this.dead?.kind === 'evicted' || this.dead?.kind === 'moved'
  }

  /** SPEC §11 fair share: its calls need more than a shared thread gives; restart it in a worker of its own. */
  get needsOwnThread(): boolean {
    return this.dead?.kind === 'moved'
  }

  /** A call's deadline here: the full one in a worker of its own, at most `sharedCallMs` in a shared one (SPEC §11). */
  private shareMs(fullMs: number): number {
    return this.host.capacity > 1 ? Math.min(this.limits.sharedCallMs, fullMs) : fullMs
  }

  /** The OS thread the agent runs on (Linux; 0 when unknown): agents sharing a worker share it. */
  get threadId(): bigint {
    return Atomics.load(this.stamps, CALL_STAMPS.threadId)
  }

  /** Why the sandbox is unusable, null while it is alive. */
  get failure(): string | null {
    return this.dead?.message ?? null
  }

  /** SlotClient: the worker has started this sandbox's call and not answered it yet. */
  get running(): boolean {
    const id = this.pending?.id ?? this.interrupting
    if (id === null) return false
    return Atomics.load(this.stamps, CALL_STAMPS.startedId) === BigInt(id) && Atomics.load(this.stamps, CALL_STAMPS.doneId) !== BigInt(id)
  }

  /** SlotClient: the worker thread is gone. */
  onWorkerLost(loss: WorkerLoss): void {
    this.die(new SandboxError(loss.kind, loss.message))
  }

  /**
   * Runs one `agent_tick()`; `elapsedNs` is the time spent inside the agent.
   * `deadline` is the end of the lease (+ grace) on the process.hrtime clock
   * (SPEC §5 / issue 12): a tick dispatched after it is refused, not run, and
   * the sandbox stays usable (kind 'deadline').
   * `options.price` (SPEC §15): the node's price per second now, what
   * `node_price` answers during this tick; without it the agent sees the
   * price of the last call that carried one.
   */
  async tick(budget: bigint, deadline: bigint | null = null, options: TickOptions = {}): Promise<TickResult> {
    // Read once: the lease check and, on the process clock, the request's post time (issue 21 item 6).
    const now = deadline !== null ? process.hrtime.bigint() : undefined
    if (now !== undefined && deadline !== null && now > deadline) {
      throw new SandboxError('deadline', 'lease ended before the tick was dispatched; tick refused')
    }
    const snapshotDeadlineMs = this.shareMs(this.limits.checkpointTimeoutMs)
    const moveOnExpiry = snapshotDeadlineMs < this.limits.checkpointTimeoutMs ? 'phase' : null
    // One flat request; what the worker keeps (price, receipts, marks) only when it changed.
    const request: TickRequest = { op: 'tick', id: 0, deadlineMs: this.limits.tickTimeoutMs, budget, deadline, snapshotDeadlineMs }
    if (options.price !== undefined && options.price !== this.priceSent) {
      request.price = options.price
      this.priceSent = options.price
    }
    if (options.receipts !== undefined && options.receipts !== this.receiptsSent) {
      request.receipts = options.receipts
      this.receiptsSent = options.receipts
    }
    if (options.movePending === true) request.movePending = true
    if (this.marks !== null && this.marks !== this.marksSent) request.marks = this.marks
    const reply = await this.request(request, this.limits.tickTimeoutMs, moveOnExpiry, this.clock.processHrtime === true ? now : undefined)
    const result: { -readonly [K in keyof TickResult]: TickResult[K] } = {
      more: reply.more === true,
      elapsedNs: reply.elapsedNs,
      observations: reply.observations ?? 0,
      highestId: reply.highestId ?? 0,
      recorded: reply.recorded === true
    }
    if (reply.replayFailure !== undefined) result.replayFailure = reply.replayFailure
    if (reply.moveRequest !== undefined) result.moveRequest = reply.moveRequest
    return result
  }

  /** SPEC §12: the last tick's states before and after it and its event log (null before the first recorded tick). */
  async tickRecord(): Promise<LastTickRecord | null> {
    const reply = await this.request({ op: 'tick-record', id: 0, deadlineMs: this.limits.checkpointTimeoutMs }, this.limits.checkpointTimeoutMs)
    return reply.record ?? null
  }

  /** The agent's serialized state (`agent_checkpoint` + `agent_checkpoint_ptr`), copied out of its memory. */
  async checkpoint(): Promise<Uint8Array> {
    const deadlineMs = this.shareMs(this.limits.checkpointTimeoutMs)
    const reply = await this.request({ op: 'checkpoint', id: 0, deadlineMs, ...this.markField() }, deadlineMs, deadlineMs < this.limits.checkpointTimeoutMs ? 'call' : null)
    this.uncharged += reply.elapsedNs
    return reply.state ?? new Uint8Array(0)
  }

  /**
   * Time spent in calls other than ticks (start-up, checkpoints) since the
   * last call of this method: the node charges it with the next tick
   * (SPEC §11: every call is charged).
   */
  takeUncharged(): bigint {
    const ns = this.uncharged
    this.uncharged = 0n
    return ns
  }

  /** SPEC §11 containment: the worker marks this agent's ticks and checkpoints itself, when it starts them. */
  markInWorker(marks: WorkerMarks): void {
    this.marks = marks
  }

  /** Who performs the agent's HTTP requests (SPEC §13); without one every request answers −1 and nothing is sent. */
  setHttpHandler(handler: HttpHandler | null): void {
    this.httpHandler = handler
  }

  /** Who decides the agent's payments (SPEC §15); without one every `wallet_pay` answers −1 and nothing is paid. */
  setWalletPayHandler(handler: WalletPayHandler | null): void {
    this.payHandler = handler
  }

  /**
   * Stops the agent: its slot is given up (a request still queued is never
   * run) and a worker of its own is terminated. A call still running in a
   * shared worker is interrupted (SPEC §11); only one that does not unwind
   * takes the thread. Never waits longer than a bound, even for a worker
   * that does not exit.
   */
  async terminate(): Promise<void> {
    const runningId = this.running ? this.pending?.id ?? this.interrupting : null
    this.die(new SandboxError('terminated', 'agent stopped'))
    Atomics.store(this.stamps, CALL_STAMPS.cancelled, 1n)
    if (this.stopping !== null) return this.stopping
    if (runningId !== null && runningId !== undefined && this.host.capacity > 1) {
      this.stopping = this.stopCall(runningId, `${this.agentId} was stopped during a call`)
      return this.stopping
    }
    await this.host.release(this.slot)
  }

  /**
   * SPEC §11 "Sharing a thread, fairly": the call `id` must stop (its
   * deadline passed, or the agent is being stopped). The flag in the stamps
   * makes the agent's next interruption check throw, which unwinds the call
   * inside the worker: the thread and its other agents go on untouched, and
   * the slot is released. A call that has not unwound within
   * INTERRUPT_GRACE_MS (blocked in a hostcall) takes the thread with it.
   */
  private async stopCall(id: number, reason: string): Promise<void> {
    this.interrupting = id
    Atomics.store(this.stamps, CALL_STAMPS.interrupt, BigInt(id))
    const until = this.clock.nowNs() + BigInt(INTERRUPT_GRACE_MS) * 1_000_000n
    const stalledAtStart = this.clock.stalledNs()
    while (Atomics.load(this.stamps, CALL_STAMPS.doneId) !== BigInt(id) && !this.host.lost) {
      // Time the whole process was stopped (SIGSTOP, a frozen VM) is not the call's: the grace waits it out.
      if (this.clock.nowNs() - (this.clock.stalledNs() - stalledAtStart) >= until) {
        this.interrupting = null
        this.log.warn({ src: 'sandbox' }, `the call did not stop within ${INTERRUPT_GRACE_MS} ms of its interrupt; stopping the agent's worker`)
        this.host.kill(this.slot, `${reason}, and did not stop when interrupted`)
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    this.interrupting = null
    await this.host.release(this.slot)
  }

  private markField(): { marks?: WorkerMarks } {
    return this.marks === null || this.marks === this.marksSent ? {} : { marks: this.marks }
  }

  /** `nowNs`: a reading of `this.clock.nowNs()` just taken, if there is one. */
  private request(request: SlotlessRequest, timeoutMs: number = request.deadlineMs, moveOnExpiry: Pending['moveOnExpiry'] = null, nowNs?: bigint): Promise<WorkerReply & { ok: true }> {
    if (this.dead !== null) return Promise.reject(this.dead)
    if (this.pending !== null) return Promise.reject(new SandboxError('crashed', 'sandbox is busy (one request at a time)'))
    const id = this.nextId++
    const postedAtNs = nowNs ?? this.clock.nowNs()
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        id,
        deadlineNs: BigInt(timeoutMs) * 1_000_000n,
        postedAtNs,
        stalledAtPost: this.clock.stalledNs(postedAtNs),
        resolve,
        reject,
        moveOnExpiry,
        timer: setTimeout(() => this.onTimer(pending), timeoutMs),
        graceUntilNs: null,
        httpWaitNs: 0n,
        httpSince: null,
        probe: null,
        starvationForgivenMs: 0,
        lines: 0,
        bytes: 0,
        dropped: 0
      }
      this.pending = pending
      // Every request object is built for this call alone: its id and slot are set on it, not copied.
      if (request.op === 'tick' && TickWire.fits(request)) {
        this.wire.writeRequest(id, request)
        this.host.postWire(this.slot)
        return
      }
      const message = request as { id: number, slot?: number }
      message.id = id
      message.slot = this.slot
      this.host.post(request as WorkerRequest)
      if ('marks' in request && request.marks !== undefined) this.marksSent = request.marks
    })
  }

  private onTimer(pending: Pending): void {
    if (this.pending !== pending) return
    const now = this.clock.nowNs()
    const started = Atomics.load(this.stamps, CALL_STAMPS.startedId) === BigInt(pending.id)
    const startedAtNs = started ? Atomics.load(this.stamps, CALL_STAMPS.startedAtNs) : pending.postedAtNs
    const replied = Atomics.load(this.stamps, CALL_STAMPS.doneId) === BigInt(pending.id)
    // Time the worker waited on the network is not compute (SPEC §13); requests are bounded separately.
    const httpWaitNs = pending.httpWaitNs + (pending.httpSince === null ? 0n : now - pending.httpSince)
    // A later phase of the call (SPEC §12 post-tick state copy) carries its own deadline in the stamps.
    const phaseDeadlineNs = started ? Atomics.load(this.stamps, CALL_STAMPS.deadlineNs) : 0n
    const verdict = deadlineVerdict({ nowNs: now, startedAtNs, deadlineNs: phaseDeadlineNs > 0n ? phaseDeadlineNs : pending.deadlineNs, stalledNs: this.clock.stalledNs() - pending.stalledAtPost + httpWaitNs, replied, started })
    if (verdict.action === 'not-started') {
      // Queued behind another agent's call in a shared worker is not late: that call has its own deadline.
      const unstarted = BigInt(UNSTARTED_WAIT_MS) * 1_000_000n
      // Asked at every firing (before the others), so the worker's answers are dated to within one (`WorkerHost.lastProgressNs`).
      const progressing = process.hrtime.bigint() - this.host.lastProgressNs < unstarted
      if (this.host.busyElsewhere(this.slot) || now - pending.postedAtNs < unstarted || progressing) {
        pending.timer = setTimeout(() => this.onTimer(pending), 10)
        return
      }
      this.die(new SandboxError('crashed', `agent worker did not start the call within ${UNSTARTED_WAIT_MS} ms; stopped`))
      this.host.kill(this.slot, `${this.agentId}'s call was never started`)
      return
    }
    if (verdict.action === 'wait') {
      pending.timer = setTimeout(() => this.onTimer(pending), verdict.ms)
      return
    }
    if (verdict.action === 'reply-pending') {
      pending.graceUntilNs ??= now + BigInt(REPLY_GRACE_MS) * 1_000_000n
      if (now < pending.graceUntilNs) {
        pending.timer = setTimeout(() => this.onTimer(pending), 10)
        return
      }
    }
    if (verdict.action === 'expired' && this.starved(pending)) {
      pending.timer = setTimeout(() => this.onTimer(pending), PROBE_MS)
      return
    }
    // The deadline that passed: a later phase's own (the tick's state copy runs under the checkpoint
    // deadline, SPEC §12) or the call's; the message and the charge both name that one.
    const missedNs = phaseDeadlineNs > 0n ? phaseDeadlineNs : pending.deadlineNs
    const ms = Number(missedNs / 1_000_000n)
    // The operator's view of why: how long the call ran and what was forgiven.
    this.log.warn({
      src: 'sandbox',
      started,
      replied,
      ranMs: Number(now - startedAtNs) / 1e6,
      stalledMs: Number(this.clock.stalledNs() - pending.stalledAtPost) / 1e6,
      postedMsAgo: Number(now - pending.postedAtNs) / 1e6,
      starvationForgivenMs: pending.starvationForgivenMs
    }, `call over its ${ms} ms deadline; interrupting the agent`)
    const moved = pending.moveOnExpiry === 'call' || (pending.moveOnExpiry === 'phase' && phaseDeadlineNs > 0n)
    if (moved) {
      this.die(new SandboxError('moved', `the agent's state copy needs more than its ${ms} ms share of a shared worker thread; it restarts from its last checkpoint in a worker of its own`, BigInt(ms) * 1_000_000n))
    } else {
      this.die(new SandboxError('timeout', `agent did not finish within ${ms} ms; stopped`, missedNs))
    }
    // SPEC §11: interrupted inside its worker; the thread goes only if the call does not unwind.
    this.stopping ??= this.stopCall(pending.id, `${this.agentId}'s call passed its ${ms} ms deadline`)
  }

  /**
   * Past the deadline: probe the agent's thread (see thread-stats.ts). True =
   * it is starved of CPU, or this is the first sample: look again in PROBE_MS.
   */
  private starved(pending: Pending): boolean {
    const sample = sampleThread(Atomics.load(this.stamps, CALL_STAMPS.threadId))
    if (sample === null) return false
    const previous = pending.probe
    pending.probe = sample
    if (previous === null) return true
    if (!starvedDuring(previous, sample, BigInt(PROBE_MS) * 1_000_000n)) return false
    pending.starvationForgivenMs += PROBE_MS
    return pending.starvationForgivenMs <= MAX_STARVATION_FORGIVEN_MS
  }

  /** SlotClient: the worker put this slot's tick reply in the TickWire. */
  onWireReply(): void {
    this.onMessage(this.wire.readReply())
  }

  /** SlotClient: a message from the worker for this slot. */
  onMessage(message: WorkerMessage): void {
    const pending = this.pending
    if (message.type === 'http') {
      this.onHttp(message)
      return
    }
    if (message.type === 'pay') {
      this.onPay(message)
      return
    }
    if (message.type === 'log') {
      // The worker caps output per call; the node counts again so a broken or
      // hostile worker still cannot queue unbounded lines into the node's log.
      if (pending === null || pending.id !== message.id) return
      const over = pending.lines >= OUTPUT_LIMITS.maxLinesPerCall + 1 || pending.bytes + message.line.length > OUTPUT_LIMITS.maxBytesPerCall * 4 + 1024
      if (over) {
        pending.dropped += 1
        return
      }
      pending.lines += 1
      pending.bytes += message.line.length
      if (!this.outputRate.take(message.line.length)) {
        this.rateDropped += 1
        return
      }
      const fields = { src: message.stream }
      if (message.stream === 'stderr' || message.stream === 'sandbox') this.log.warn(fields, message.line)
      else this.log.info(fields, message.line)
      return
    }
    if (pending === null || pending.id !== message.id) return
    this.pending = null
    clearTimeout(pending.timer)
    if (pending.dropped > 0) this.log.warn({ src: 'sandbox' }, `node dropped ${pending.dropped} more agent output lines over the per-call cap`)
    this.reportRateDrops()
    if (message.ok) {
      pending.resolve(message)
    } else if (message.kind === 'deadline') {
      pending.reject(new SandboxError('deadline', message.message)) // nothing ran; the worker stays usable
    } else {
      const text = message.kind === 'trap' ? `agent trapped: ${message.message}` : message.message
      const error = new SandboxError(message.kind, text, message.kind === 'timeout' ? pending.deadlineNs : message.elapsedNs)
      this.die(error)
      // The failure unwound inside the worker: the thread is sound, only this instance is dropped.
      void this.host.release(this.slot)
      pending.reject(error)
    }
  }

  /** At most one line a second says how much output the rate limit dropped. */
  private reportRateDrops(): void {
    if (this.rateDropped === 0) return
    const now = performance.now()
    if (now - this.rateReportedAt < 1000) return
    this.log.warn({ src: 'sandbox' }, `node dropped ${this.rateDropped} agent output lines over the rate limit (${OUTPUT_RATE.linesPerSecond} lines/s, ${OUTPUT_RATE.bytesPerSecond / 1024} KiB/s)`)
    this.rateDropped = 0
    this.rateReportedAt = now
  }

  /** SPEC §13: perform the request off the worker, answer on its port, wake it. Never throws. */
  private onHttp(message: WorkerHttpCall): void {
    const pending = this.pending
    const port = message.port as MessagePort | undefined
    const signal = new Int32Array(message.signal)
    const answer = (reply: HttpAnswer): void => {
      try {
        port?.postMessage(reply)
      } catch {
        // the worker is gone; nothing to wake
      }
      port?.close()
      Atomics.store(signal, 0, 1)
      Atomics.notify(signal, 0)
    }
    const handler = this.httpHandler
    if (pending === null || pending.id !== message.id || handler === null || port === undefined) {
      answer({ ok: false, code: HTTP_ERR_TRANSPORT, maxResponseBytes: 0 })
      return
    }
    const now = this.clock.nowNs()
    pending.httpSince = now
    // SPEC §13: the tick's total wall time stays under TICK_WALL_LIMIT_MS; this request gets what is left.
    const wallLeftMs = TICK_WALL_LIMIT_MS - Number((now - pending.postedAtNs) / 1_000_000n)
    const call = { ...message.call, body: new Uint8Array(message.call.body) }
    handler(call, message.callIndex, Math.max(0, wallLeftMs)).then(
      (result) => result.ok
        ? answer({ ok: true, status: result.status, body: result.body, maxResponseBytes: result.maxResponseBytes ?? result.body.length })
        : answer({ ok: false, code: result.code, maxResponseBytes: 0 }),
      () => answer({ ok: false, code: HTTP_ERR_TRANSPORT, maxResponseBytes: 0 })
    ).finally(() => {
      if (pending.httpSince !== null) pending.httpWaitNs += this.clock.nowNs() - pending.httpSince
      pending.httpSince = null
    })
  }

  /** SPEC §15: decide the payment on this thread, answer on its port, wake the worker. Never throws. */
  private onPay(message: WorkerPayCall): void {
    const port = message.port as MessagePort | undefined
    const answer = (reply: WalletPayAnswer): void => {
      try {
        port?.postMessage(reply)
      } catch {
        // the worker is gone; nothing to wake
      }
      port?.close()
      const signal = new Int32Array(message.signal)
      Atomics.store(signal, 0, 1)
      Atomics.notify(signal, 0)
    }
    const refused: WalletPayAnswer = { ok: false, code: WALLET_PAY_ERR_BUDGET }
    const pending = this.pending
    const handler = this.payHandler
    if (pending === null || pending.id !== message.id || handler === null || port === undefined) {
      answer(refused)
      return
    }
    const call = message.call
    const failed = (error: unknown): WalletPayAnswer => {
      this.log.error({ src: 'sandbox' }, `wallet_pay handler failed: ${error instanceof Error ? error.message : String(error)}`)
      return refused
    }
    let result: WalletPayAnswer | Promise<WalletPayAnswer>
    try {
      result = handler({ amount: call.amount, recipient: new Uint8Array(call.recipient), memo: new Uint8Array(call.memo), receiptCap: call.receiptCap })
    } catch (error) {
      answer(failed(error))
      return
    }
    if (!(result instanceof Promise)) {
      answer(result)
      return
    }
    // The payment is being made durable: like an HTTP wait, the time is forgiven by the deadline.
    pending.httpSince = this.clock.nowNs()
    result.then(answer, (error: unknown) => answer(failed(error))).finally(() => {
      if (pending.httpSince !== null) pending.httpWaitNs += this.clock.nowNs() - pending.httpSince
      pending.httpSince = null
    })
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

