// Issue 11, SPEC §11 fair share and failure containment, §13 effects: the agent's live sandbox — a new
// one after a shared worker was stopped for another agent's fault (from the last durable checkpoint,
// alone after repeated evictions or when its calls need a thread of its own), the end of an arrival's
// probation in a worker of its own, and the HTTP handler every new sandbox is given.
import { runtimeEvents } from '../observer.js'
import { type AgentSandbox, performHttpCall, performWalletPay } from '@igor/sandbox'
import type { LiveAgent } from './live-agent.js'

/** An agent evicted this often within EVICTION_WINDOW_MS gets a worker of its own. */
const EVICTIONS_BEFORE_SOLO = 3
const EVICTION_WINDOW_MS = 60_000

/** The agent's sandbox: restarts, probation, HTTP handler (see the file comment). */
export class Instance {
  constructor(private readonly agent: LiveAgent) {}

  /**
   * Issue 11: the end of an arrival's probation. Right after a checkpoint the
   * live state is the saved one, so the agent starts again from it in a
   * shared worker with nothing lost, and the probation thread is stopped. A
   * failure leaves it where it is (correct, only not sharing).
   */
  async graduate(): Promise<void> {
    const state = this.agent.lastLiveState
    if (!this.agent.probation || this.agent.restartSandbox === undefined || state === null) return
    this.agent.probation = false
    const previous = this.agent.sandbox
    try {
      this.adopt(await this.agent.restartSandbox(state, this.agent.budget, false))
    } catch (error) {
      this.agent.log.warn({}, `agent stays in its own worker: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    this.agent.charge(previous.takeUncharged())
    await previous.terminate()
    this.agent.log.info({ tickNumber: this.agent.tickNumber.toString() }, 'agent moved from its probation worker to a shared one')
  }

  /** A new live sandbox (issue 11: after an eviction, or at the end of probation): no record of a last tick in it yet. */
  private adopt(sandbox: AgentSandbox): void {
    this.agent.sandbox = sandbox
    this.attachHttp()
    this.attachWalletPay()
    this.agent.lastRecorded = null
  }

  /** Gives the live sandbox this agent's HTTP handler (SPEC §13), when the manifest declares `http`. */
  attachHttp(): void {
    const http = this.agent.module.manifest.http ?? null
    if (http !== null) {
      // SPEC §13: the node performs the agent's requests. The Idempotency-Key
      // carries the number of the tick in progress (the stored count + 1), so a
      // tick re-executed after a crash repeats its keys; the gate is asked at
      // the moment each request would leave.
      // (`?.`: test fakes of the sandbox need not implement effects.)
      this.agent.sandbox.setHttpHandler?.(async (call, callIndex, maxWaitMs) => {
        const result = await performHttpCall(call, {
          options: http, agentId: this.agent.agentId, tickNumber: this.agent.tickNumber + 1n, callIndex, maxWaitMs, isOwner: () => this.agent.mayAct(),
          egress: this.agent.egress, rate: this.agent.httpRate
        })
        if (!result.ok) this.agent.log.warn({ code: result.code, url: call.url }, `http_request refused or failed: ${result.reason}`)
        return { ...result, maxResponseBytes: http.maxResponseBytes }
      })
    }
  }

  /**
   * SPEC §15 `wallet_pay`, when the manifest declares `x402`: decided on this thread in one synchronous
   * step — the output gate, the budget, the deduction, the agent's signature, the payments log — so
   * no payment is signed against a lease or a budget the node no longer has. Without an agent key
   * (an agent with no identity) every payment answers −1.
   */
  attachWalletPay(): void {
    const options = this.agent.module.manifest.x402 ?? null
    if (options === null) return
    this.agent.sandbox.setWalletPayHandler?.(async (call) => {
      let made: { amount: bigint, receipt: Uint8Array } | null = null
      const answer = performWalletPay(call, {
        options,
        isOwner: () => this.agent.mayAct(),
        budget: () => this.agent.budget,
        signer: this.agent.lineage?.identity ?? null,
        nowNs: () => this.agent.nowNs(),
        paid: (amount, receipt) => {
          this.agent.budget -= amount
          made = { amount, receipt }
        }
      })
      if (!answer.ok) {
        this.agent.log.warn({ code: answer.code, amount: call.amount.toString() }, 'wallet_pay refused')
        return answer
      }
      const payment = made as { amount: bigint, receipt: Uint8Array } | null
      if (payment !== null && this.agent.payments !== null) {
        // Durable before the agent (and so its recipient) sees the receipt; a failed write undoes it.
        try {
          await this.agent.payments.record(payment.receipt, this.agent.durable)
        } catch (error) {
          this.agent.budget += payment.amount
          this.agent.log.error({ amount: call.amount.toString() }, `wallet_pay not made: the payments log could not be written (${(error as Error).message})`)
          return { ok: false, code: -1 } as const
        }
      }
      this.agent.log.info({ amount: call.amount.toString(), payments: this.agent.payments?.count }, 'wallet_pay: paid')
      return answer
    })
  }

  /**
   * Issue 11: the instance was lost with a shared worker stopped for another
   * agent's fault. The agent restarts from its last durable checkpoint, as
   * after a crash of the node: that checkpoint's state and tick number (ticks
   * after it run again and repeat their Idempotency-Keys, SPEC §13); the
   * budget already charged stays charged. True when a live instance is there.
   */
  async ensureInstance(): Promise<boolean> {
    if (this.agent.sandbox.alive) return true
    if (this.agent.sandbox.evicted !== true || this.agent.restartSandbox === undefined || this.agent.stopped) return false
    const reason = this.agent.sandbox.failure ?? 'worker lost'
    // No checkpoint yet (evicted before its first one was written): it starts over, as a crash would have it.
    const stored = await this.agent.store.load(this.agent.agentId)
    const now = performance.now()
    this.agent.evictions = [...this.agent.evictions.filter((at) => now - at < EVICTION_WINDOW_MS), now]
    // SPEC §11 fair share: an agent whose calls need more than a shared thread gives restarts alone.
    const moved = this.agent.sandbox.needsOwnThread === true
    const solo = moved || this.agent.evictions.length >= EVICTIONS_BEFORE_SOLO
    this.adopt(await this.agent.restartSandbox(stored?.state ?? null, this.agent.budget, solo))
    this.agent.tickNumber = stored?.tickNumber ?? 0n
    this.agent.lastLiveState = stored?.state ?? null
    if (!moved) runtimeEvents.eviction(this.agent.agentId) // a move (SPEC §11 fair share) is the agent's own doing, not an eviction
    this.agent.log.warn({ tickNumber: this.agent.tickNumber.toString(), solo }, `agent restarted from its last checkpoint: ${reason}`)
    return true
  }
}
