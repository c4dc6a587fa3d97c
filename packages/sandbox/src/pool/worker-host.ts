import type { TransferListItem, Worker } from 'node:worker_threads'
import type { WorkerMessage, WorkerRequest } from './messages.js'

/** Why a worker thread went away, as each of its slots is told. */
export interface WorkerLoss {
  readonly kind: 'crashed' | 'out-of-memory' | 'evicted'
  readonly message: string
}

/** The node-side end of one slot: an `AgentSandbox`. */
export interface SlotClient {
  readonly agentId: string
  /** True while the worker has started this slot's call and not yet answered it. */
  readonly running: boolean
  onMessage(message: WorkerMessage): void
  /** Its tick's reply is in its `TickWire` (the worker posted the slot number). */
  onWireReply(): void
  /** The thread is gone; the slot's instance with it. */
  onWorkerLost(loss: WorkerLoss): void
}

/** No await on a worker that will not exit may hold up shutdown or other agents longer than this. */
const TERMINATE_WAIT_MS = 2_000

/**
 * One worker thread and the agents it hosts (issue 11: many agents per node).
 *
 * Each agent is a slot with its own instance, linear memory, WASI table,
 * stamps and output caps; the thread, its V8 isolate and event loop are
 * shared, so calls run one at a time in arrival order and a slot's deadline
 * is measured from when the worker actually started its call (SPEC §11).
 *
 * Containment between slots: a trap, a bad pointer, `proc_exit`, a refused
 * wait or a call interrupted at its deadline (SPEC §11: the interruption
 * checks prepared into every module) unwinds inside the worker and ends that
 * slot only (`release`). A call that does not unwind when interrupted
 * (blocked in a hostcall), or a worker that died, takes the thread: the slot
 * whose call was running gets the real reason, every other slot is *evicted*
 * (kind `evicted`) and its `AgentHost` restarts it from its last checkpoint,
 * exactly as after a crash of the node.
 */
export class WorkerHost {
  private readonly slots = new Map<number, SlotClient>()
  private nextSlot = 1
  private gone = false
  private readonly exited: Promise<void>
  /** Messages from the worker so far, and the count and time of the last `lastProgressNs` that saw a new one. */
  private answers = 0
  private seenAnswers = 0
  private seenAtNs = process.hrtime.bigint()

  constructor(readonly worker: Worker, readonly capacity: number, private readonly onClosed: (host: WorkerHost) => void) {
    worker.on('message', (message: WorkerMessage | number) => {
      this.answers++
      if (typeof message === 'number') {
        this.slots.get(message)?.onWireReply()
        return
      }
      const slot = message.slot
      if (slot !== undefined) this.slots.get(slot)?.onMessage(message)
    })
    worker.on('error', (error: Error & { code?: string }) => {
      const oom = error.code === 'ERR_WORKER_OUT_OF_MEMORY'
      this.lose({ kind: oom ? 'out-of-memory' : 'crashed', message: `agent worker ${oom ? 'ran out of memory' : 'crashed'}: ${firstLine(error.message)}` })
    })
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.lose({ kind: 'crashed', message: `agent worker exited with code ${code}` })
        resolve()
      })
    })
  }

  /**
   * About when the worker last answered anything: a queued call waits on a
   * worker that makes progress. Messages are counted, not timed (a clock read
   * per message is ~0.5 µs on every tick's reply, issue 21 item 6): an answer
   * is dated when this is next asked, so it looks at most one asking later
   * than it was (the caller asks every 10 ms while a call waits to start).
   */
  get lastProgressNs(): bigint {
    if (this.answers !== this.seenAnswers) {
      this.seenAnswers = this.answers
      this.seenAtNs = process.hrtime.bigint()
    }
    return this.seenAtNs
  }

  /** The thread is gone (or going): nothing posted to it runs. */
  get lost(): boolean {
    return this.gone
  }

  /** Slots still free; a host that lost its thread has none. */
  get free(): number {
    return this.gone ? 0 : this.capacity - this.slots.size
  }

  get size(): number {
    return this.slots.size
  }

  attach(client: SlotClient): number {
    const slot = this.nextSlot++
    this.slots.set(slot, client)
    if (this.slots.size === 1) this.worker.ref()
    return slot
  }

  post(request: WorkerRequest, transfer?: readonly TransferListItem[]): void {
    if (this.gone) return
    this.worker.postMessage(request, transfer)
  }

  /** A tick request for `slot`, already written into its `TickWire`. */
  postWire(slot: number): void {
    if (this.gone) return
    this.worker.postMessage(slot)
  }

  /** True when a slot other than `slot` has a call running: a call queued behind it is not late. */
  busyElsewhere(slot: number): boolean {
    for (const [other, client] of this.slots) if (other !== slot && client.running) return true
    return false
  }

  /**
   * The slot is given up (stopped, failed in a way that left the thread
   * sound, or moved away). Its instance is dropped in the worker; the last
   * slot out stops the thread. Never waits longer than a bound.
   */
  async release(slot: number): Promise<void> {
    if (!this.slots.delete(slot)) {
      // Already lost with the thread: still wait (bounded) for the thread to be gone.
      if (this.gone && this.slots.size === 0) await this.stop()
      return
    }
    if (!this.gone) this.post({ op: 'dispose', id: 0, slot, deadlineMs: 0 })
    if (this.slots.size > 0) return
    this.worker.unref()
    await this.stop()
  }

  /**
   * Stops the thread because `slot`'s call cannot be stopped otherwise (its
   * deadline passed, or it never started): that slot already knows why; every
   * other slot is evicted, naming the agent that caused it.
   */
  kill(slot: number, reason: string): void {
    const culprit = this.slots.get(slot)?.agentId ?? 'an agent'
    this.slots.delete(slot)
    this.lose({
      kind: 'evicted',
      message: `its worker, shared with ${culprit}, was stopped (${reason}); the agent restarts from its last checkpoint`
    })
    void this.stop()
  }

  /** Terminates the thread (bounded wait). */
  async stop(): Promise<void> {
    this.markGone()
    await bounded(this.worker.terminate().then(async () => this.exited), TERMINATE_WAIT_MS)
  }

  /** The thread is gone: the slot whose call was running gets `loss`, the others are evicted. */
  private lose(loss: WorkerLoss): void {
    if (this.gone && this.slots.size === 0) return
    this.markGone()
    const clients = [...this.slots.values()]
    this.slots.clear()
    const culprit = clients.find((client) => client.running)
    for (const client of clients) {
      if (client === culprit || loss.kind === 'evicted' || clients.length === 1) {
        client.onWorkerLost(loss)
      } else {
        client.onWorkerLost({
          kind: 'evicted',
          message: `its worker, shared with ${culprit?.agentId ?? 'other agents'}, was lost (${loss.message}); the agent restarts from its last checkpoint`
        })
      }
    }
  }

  private markGone(): void {
    if (this.gone) return
    this.gone = true
    this.onClosed(this)
  }
}

async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    promise.then(() => undefined, () => undefined),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); timer.unref() })
  ])
  clearTimeout(timer)
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? ''
}
