/**
 * Everything the agent worker does, without the thread plumbing: it takes one
 * request at a time, calls into the agent under the call's deadline, and
 * posts the agent's (capped) output lines followed by exactly one reply.
 * `agent-worker.ts` wires it to `parentPort`; tests drive it directly.
 */
import type { MessagePort, TransferListItem } from 'node:worker_threads'
import { splitReceipts } from './receipt-list.js'
import type { FailureKind, WorkerMessage, WorkerReply, WorkerRequest, WorkerSetup } from '../pool/messages.js'
import { CallState } from './call-state.js'
import { TickWire } from '../pool/tick-wire.js'
import { markStart } from './call-marks.js'
import type { WorkerMarks } from '../containment/call-marker.js'
import { AbiError, DeadlineExceeded, LeaseEnded, ProcExit } from './errors.js'
import { buildImports, pollingImports } from './hostcalls.js'
import { blockingHttp } from './http-hostcall.js'
import type { HttpBridge } from './http-hostcall.js'
import type { PayBridge } from './hostcall-context.js'
import { blockingPay } from './wallet-pay-hostcall.js'
import { AgentMemory } from './memory.js'
import { LineAssembler, OutputCaps } from './output-caps.js'
import type { OutputLimits } from './output-caps.js'
import { type LastTickRecord, type TickObservations, WorkerObservation } from '../observe/worker-observe.js'

interface AgentExports {
  memory: WebAssembly.Memory
  agent_init: () => unknown
  agent_tick: () => unknown
  agent_checkpoint: () => unknown
  agent_checkpoint_ptr: () => unknown
  agent_resume: (ptr: number, len: number) => unknown
  malloc: (size: number) => unknown
}

/** A tick's reply fields beyond `elapsedNs`. */
interface TickReplyFields { more?: boolean, observations?: number, highestId?: number, recorded?: boolean, replayFailure?: string | null, moveRequest?: bigint }

/** SPEC §11 checkpoint deadline, when the request does not say. */
const DEFAULT_SNAPSHOT_DEADLINE_MS = 5_000

export type Post = (message: WorkerMessage, transfer?: TransferListItem[]) => void

export class AgentRuntime {
  private readonly memory = new AgentMemory()
  private readonly call = new CallState()
  private readonly output: OutputCaps
  private readonly stdout: LineAssembler
  private readonly stderr: LineAssembler
  private agent: AgentExports | null = null
  private budget = 0n
  /** SPEC §15: the node's price per second as of the last request that carried one (0 until then). */
  private price = 0n
  /** SPEC §15: the agent's receipts as the node last sent them (none until then). */
  private receipts: readonly Uint8Array[] = []
  private requestId = 0
  /** SPEC §12: records observations (live agents), or serves recorded ones (a replay). */
  private observation = new WorkerObservation(undefined)
  /** SPEC §16 `request_move`: the manifest allows migration; the node has a move of this agent pending; the maximum asked and not yet reported. */
  private migrationEnabled = true
  private movePending = false
  private moveRequest: bigint | null = null
  /** Set only while agent_tick runs (SPEC §13: HTTP belongs to a tick; n counts its calls). */
  private httpBridge: HttpBridge | null = null
  /** Set only while agent_tick runs (SPEC §15: a payment belongs to a tick). */
  private payBridge: PayBridge | null = null
  /** SPEC §11 containment: where this agent's calls are marked, as last sent (the node sends them once; see `AgentSandbox.markInWorker`). */
  private marks: WorkerMarks | undefined = undefined
  /** The tick the bridges below belong to, and its HTTP calls so far (SPEC §13: n of the Idempotency-Key). */
  private tickId = 0
  private httpCalls = 0
  private readonly postWithPort = (message: WorkerMessage & { port: MessagePort }): void => this.post(message, [message.port])
  private readonly excludeWait = (ns: bigint): void => this.call.excludeWait(ns)
  private readonly cancelled = (): boolean => this.call.cancelled()
  private readonly tickHttp: HttpBridge = { send: (call) => blockingHttp(this.postWithPort, this.tickId, this.httpCalls++, call, this.excludeWait) }
  private readonly tickPay: PayBridge = { send: (call) => blockingPay(this.postWithPort, this.tickId, call, this.excludeWait) }

  /** SPEC §11 tick path: the slot's TickWire (sent with init), and how to say its reply is there. */
  private wire: TickWire | null = null

  constructor(private readonly post: Post, limits?: OutputLimits, private readonly postWire?: () => void) {
    this.output = new OutputCaps((stream, line) => this.post({ type: 'log', id: this.requestId, stream, line }), limits)
    this.stdout = new LineAssembler('stdout', this.output)
    this.stderr = new LineAssembler('stderr', this.output)
  }

  /** A tick whose request is in the slot's TickWire; its reply goes back the same way when it fits. */
  handleWire(slot: number): void {
    if (this.wire !== null) this.handle(this.wire.readRequest(slot), true)
  }

  handle(request: WorkerRequest, viaWire = false): void {
    this.requestId = request.id
    if (request.op === 'init') {
      this.call.attachStamps(request.stamps ?? null)
      this.wire = request.wire !== undefined && this.postWire !== undefined ? new TickWire(request.wire) : null
    }
    // A request queued behind another agent's call after the node gave this slot up: nobody waits for it.
    if (request.op === 'dispose' || this.call.cancelled()) return
    if ((request.op === 'tick' || request.op === 'checkpoint') && request.marks !== undefined) this.marks = request.marks
    // SPEC §11: marked before the call's start stamp (the mark's write(2) is not the agent's time), cleared after the reply is posted.
    const marked = request.op === 'tick' ? 'agent_tick' : request.op === 'checkpoint' ? 'agent_checkpoint' : null
    let unmark: (() => void) | null = null
    if (marked !== null) {
      unmark = markStart(this.marks, marked, this.cancelled)
      // The node gave the slot up between the check above and the mark: nobody waits for this call.
      if (unmark === null) return
    }
    this.call.begin(request.id, request.deadlineMs)
    let reply: WorkerReply
    let transfer: ArrayBuffer[] | undefined
    try {
      const result = this.run(request)
      // An agent may catch the exception that unwinds proc_exit or a wait past
      // the deadline; the call still ends as that agent asked.
      const swallowed = this.call.exit ?? this.call.overran
      if (swallowed !== null) throw swallowed
      reply = { type: 'reply', id: request.id, ok: true, elapsedNs: this.call.elapsedNs(), ...result }
      if (result.state !== undefined) transfer = [result.state.buffer as ArrayBuffer]
    } catch (error) {
      reply = this.failure(request.id, this.call.overran ?? this.call.exit ?? error)
    } finally {
      this.stdout.flush()
      this.stderr.flush()
      this.output.finish()
    }
    this.call.end(request.id)
    if (viaWire && this.wire !== null && this.postWire !== undefined && this.wire.writeReply(reply)) this.postWire()
    else this.post(reply, transfer)
    // After the post: the node does not wait for this write(2). The next call of this worker starts only after it.
    unmark?.()
  }

  private run(request: WorkerRequest): { more?: boolean, state?: Uint8Array, elapsedNs?: bigint, record?: LastTickRecord | null } & Partial<TickObservations> {
    switch (request.op) {
      case 'init': {
        if (this.agent !== null) throw new AbiError('init twice')
        this.budget = request.budget
        if (request.price !== undefined) this.price = request.price
        const agent = this.instantiate(request.setup)
        // SPEC §12: a replay runs the start function and _initialize, but not agent_init.
        if (this.observation.runsAgentInit) agent.agent_init()
        if (request.state !== null) this.resume(agent, request.state)
        this.observation.started(() => this.snapshot(agent))
        this.agent = agent
        return {}
      }
      case 'tick': {
        const agent = this.require('tick')
        this.budget = request.budget
        if (request.price !== undefined) this.price = request.price
        if (request.receipts !== undefined) this.receipts = splitReceipts(request.receipts)
        this.movePending = request.movePending === true
        // The lease's end, checked again in the worker right before the agent runs (issue 12).
        // The call's start stamp is that reading, taken with nothing but this request's decoding since.
        if (request.deadline !== undefined && request.deadline !== null && this.call.startedAt > request.deadline) {
          throw new LeaseEnded('lease ended before the tick ran; tick refused')
        }
        // The bridges are made once per runtime; a tick opens them (its id, its HTTP call count from 0).
        this.tickId = request.id
        this.httpCalls = 0
        this.httpBridge = this.tickHttp
        this.payBridge = this.tickPay
        try {
          this.observation.beginTick()
          let result: unknown
          let thrown: unknown
          let failed = false
          try {
            result = agent.agent_tick()
          } catch (error) {
            thrown = error
            failed = true
          }
          // SPEC §12: the state copy kept for a replay is a call into the agent
          // like a checkpoint: its own deadline (the checkpoint's), charged.
          const observed = this.observation.endTick(failed, thrown, () => {
            this.call.phase(request.snapshotDeadlineMs ?? DEFAULT_SNAPSHOT_DEADLINE_MS)
            return this.snapshot(agent)
          })
          if (observed === null) throw thrown as Error
          // SPEC §16: a request noted during this tick (or during init/resume before it) goes to the node with its reply.
          const moveRequest = this.moveRequest
          this.moveRequest = null
          // Only what is not the default travels (the node reads an absent field as 0 / false).
          const reply: TickReplyFields = {}
          if (typeof result === 'number' && result !== 0) reply.more = true
          if (observed.observations !== 0) reply.observations = observed.observations
          if (observed.highestId !== 0) reply.highestId = observed.highestId
          if (observed.recorded) reply.recorded = true
          if (observed.replayFailure !== undefined) reply.replayFailure = observed.replayFailure
          if (moveRequest !== null) reply.moveRequest = moveRequest
          return reply
        } finally {
          this.httpBridge = null
          this.payBridge = null
        }
      }
      case 'tick-record':
        return { record: this.observation.lastTick() }
      case 'checkpoint':
        return { state: this.snapshot(this.require('checkpoint')) }
      case 'dispose':
        return {}
    }
  }

  private require(op: string): AgentExports {
    if (this.agent === null) throw new AbiError(`${op} before init`)
    return this.agent
  }

  private instantiate(setup: WorkerSetup): AgentExports {
    const live = buildImports(setup, {
      memory: this.memory,
      call: this.call,
      output: this.output,
      stdout: this.stdout,
      stderr: this.stderr,
      budget: () => this.budget,
      price: () => this.price,
      receipts: () => this.receipts,
      move: { request: (max) => this.requestMove(max) },
      http: () => this.httpBridge,
      pay: () => this.payBridge,
      spent: (amount) => { this.budget -= amount }
    })
    this.migrationEnabled = setup.migrationEnabled !== false
    this.observation = new WorkerObservation(setup.observe)
    let linear: WebAssembly.Memory | null = null
    const imports = pollingImports(this.observation.wrapImports(live, setup.capabilities, () => linear), () => this.call.pollInterrupt())
    const instance = new WebAssembly.Instance(setup.module, imports)
    const exports = instance.exports as unknown as AgentExports
    linear = exports.memory
    this.memory.attach(exports.memory)
    if (setup.entry !== null) this.runEntry(setup.entry, instance.exports[setup.entry] as () => unknown)
    return exports
  }

  /** SPEC §16 `request_move`: −1 migration disabled by the manifest, −2 a move already pending, 0 noted. */
  private requestMove(maxPricePerSecond: bigint): number {
    if (!this.migrationEnabled) return -1
    if (this.movePending || this.moveRequest !== null) return -2
    this.moveRequest = BigInt.asIntN(64, maxPricePerSecond)
    return 0
  }

  /** SPEC §5: `_start`/`_initialize` run once; a `proc_exit(0)` from `_start` is success. */
  private runEntry(entry: '_start' | '_initialize', run: () => unknown): void {
    try {
      run()
    } catch (error) {
      if (!(error instanceof ProcExit) || this.call.overran !== null) throw error
    }
    const exit = this.call.exit
    if (exit === null) return
    this.call.exit = null
    if (entry !== '_start' || exit.code !== 0) throw new ProcExit(exit.code)
  }

  private resume(agent: AgentExports, state: Uint8Array): void {
    const ptr = agent.malloc(state.byteLength)
    const target = typeof ptr === 'number' ? this.memory.bytes(ptr, state.byteLength) : null
    if (target === null || ptr === 0) {
      throw new AbiError(`malloc(${state.byteLength}) returned an unusable pointer ${describe(ptr)} (memory is ${this.memory.byteLength} bytes)`)
    }
    target.set(state)
    agent.agent_resume(ptr as number, state.byteLength)
  }

  private snapshot(agent: AgentExports): Uint8Array {
    const size = agent.agent_checkpoint()
    if (typeof size !== 'number') throw new AbiError(`agent_checkpoint returned ${describe(size)}, not an i32 size`)
    if (size < 0) throw new AbiError(`agent_checkpoint returned a negative size ${size}`)
    const ptr = agent.agent_checkpoint_ptr()
    if (typeof ptr !== 'number') throw new AbiError(`agent_checkpoint_ptr returned ${describe(ptr)}, not an i32 pointer`)
    const bytes = this.memory.bytes(ptr, size)
    if (bytes === null) throw new AbiError(`agent_checkpoint returned ${size} bytes at ${ptr >>> 0}, outside its memory (${this.memory.byteLength} bytes)`)
    return bytes.slice()
  }

  private failure(id: number, error: unknown): WorkerReply {
    let kind: FailureKind = 'trap'
    let message = error instanceof Error ? error.message : String(error)
    let elapsedNs = this.call.elapsedNs()
    if (error instanceof AbiError) kind = 'abi'
    else if (error instanceof LeaseEnded) kind = 'deadline'
    else if (error instanceof ProcExit) {
      kind = 'exit'
      message = `agent called proc_exit(${error.code})`
    } else if (error instanceof DeadlineExceeded) {
      kind = 'timeout'
      elapsedNs = this.call.deadlineNs() // SPEC §11: a missed deadline is charged in full
    }
    return { type: 'reply', id, ok: false, kind, message: oneLine(message), elapsedNs }
  }
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value === 'bigint' ? `${value}n` : typeof value
}

/** SPEC §11: a one-line reason. */
function oneLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? ''
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}
