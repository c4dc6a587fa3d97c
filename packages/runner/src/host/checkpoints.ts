// SPEC §5 checkpoint store and fencing, §3 durable authority record, §12 signed lineage: the agent's
// live state copied out of its sandbox and encoded at the live epoch (signed and chained when it has
// an identity), written atomically (then its history copy), and the authority record written before
// `status` shows a change. A checkpoint on a halt path logs its failure and never hides the reason.
import { encodeCheckpoint } from '@igor/checkpoint-codec'
import { runtimeEvents } from '../observer.js'
import { SandboxError } from '@igor/sandbox'
import type { Instance } from './instance.js'
import type { LiveAgent } from './live-agent.js'

/** Checkpoints and authority records of one agent (see the file comment). */
export class Checkpoints {
  constructor(private readonly agent: LiveAgent, private readonly instance: Instance) {}

  /**
   * Encodes the live state at the live epoch and writes it (atomic, fenced). Returns the bytes written.
   * `periodic` (the 5 s and renewal checkpoints): the receipts file may wait (`ReceiptBook.checkpointed`).
   */
  async saveCheckpoint(periodic = false): Promise<Uint8Array> {
    const epoch = this.agent.lease.epoch
    const expiry = this.agent.lease.expiry
    const started = performance.now()
    const bytes = await this.encodeLive()
    const at = { tick: this.agent.tickNumber, budget: this.agent.budget }
    await this.persist(bytes)
    // SPEC §15 wallet_pay: the checkpoint holds the payments made since the last one (each already in the sidecar).
    this.agent.durable = at
    const paid = await this.agent.payments?.commit() ?? 0n
    // SPEC §15: the receipt follows its durable checkpoint (a crash in between is repaired on restart); its cost leaves the payments out.
    await this.agent.receipts?.checkpointed({ tick: this.agent.tickNumber, budget: this.agent.budget }, paid, periodic)
    await this.agent.payments?.settle()
    this.agent.lastCheckpointAt = performance.now()
    runtimeEvents.checkpoint(this.agent.agentId, bytes.byteLength, this.agent.lastCheckpointAt - started)
    this.agent.shown = { ...this.agent.shown, epoch, expiry }
    return bytes
  }

  /** The live state, copied out of the worker and encoded at the live epoch. */
  async encodeLive(): Promise<Uint8Array> {
    let state: Uint8Array
    for (let attempt = 1; ; attempt++) {
      if (!this.agent.sandbox.alive) await this.instance.ensureInstance()
      try {
        state = await this.agent.sandbox.checkpoint()
        break
      } catch (error) {
        // Evicted during the copy (issue 11): restarted, the state to save is the restarted one.
        // Moved (SPEC §11 fair share): it needed more than a shared thread gives; the slice is charged, it restarts alone.
        if (attempt < 3 && error instanceof SandboxError && error.kind === 'moved' && this.agent.mayChargeOutsideTick()) this.agent.charge(error.elapsedNs)
        if (attempt < 3 && error instanceof SandboxError && (error.kind === 'evicted' || error.kind === 'moved')) continue
        throw error
      }
    }
    // SPEC §11: checkpoint and start-up time is charged too (SPEC §15: once the stay has a tick to put it on).
    // SPEC §16: an agent held for price pays nothing while it waits (the copy's time is forgiven, not deferred).
    if (this.agent.priceHold !== null) this.agent.sandbox.takeUncharged()
    else if (this.agent.mayChargeOutsideTick()) this.agent.charge(this.agent.sandbox.takeUncharged())
    this.agent.lastLiveState = state
    const input = {
      budget: this.agent.budget,
      pricePerSecond: this.agent.pricePerSecond,
      tickNumber: this.agent.tickNumber,
      wasmHash: this.agent.module.prepared.wasmHash,
      epoch: this.agent.lease.epoch,
      leaseExpiry: this.agent.lease.expiry,
      state
    }
    // SPEC §12: signed and chained when the agent has an identity.
    return this.agent.lineage !== undefined ? this.agent.lineage.seal(input) : encodeCheckpoint(input)
  }

  /** The checkpoint file, then (SPEC §12) its history copy; the chain moves only when both are written. */
  async persist(bytes: Uint8Array): Promise<void> {
    if (this.agent.lineage !== undefined) await this.agent.lineage.persist(this.agent.store, this.agent.agentId, bytes)
    else await this.agent.store.save(this.agent.agentId, bytes)
  }

  /** A checkpoint on a halt path: failure to write is logged, never thrown over the original reason. */
  async trySaveCheckpoint(why: string): Promise<void> {
    if (!this.agent.sandbox.alive) return
    try {
      await this.saveCheckpoint()
    } catch (error) {
      this.agent.log.error({ why }, `final checkpoint failed: ${error instanceof Error ? error.message : String(error)}; last good checkpoint kept`)
    }
  }

  async writeAuthority(reason?: string, peer?: string): Promise<void> {
    const { state, epoch, expiry } = this.agent.lease
    const recordPeer = peer ?? this.agent.peer
    await this.agent.store.writeAuthority(this.agent.agentId, {
      state,
      epoch,
      updatedAtNs: this.agent.nowNs(),
      ...(reason !== undefined ? { reason } : {}),
      ...(recordPeer !== undefined ? { peer: recordPeer } : {})
    })
    this.agent.shown = { state, epoch, expiry }
  }

  async haltWithCheckpoint(reason: string): Promise<void> {
    // The final checkpoint is on disk before status shows the halt: a reader who sees "halted" finds it there.
    // Nothing ticks meanwhile: this runs under the mutex and the timer is cancelled.
    this.agent.cancelTimer()
    await this.trySaveCheckpoint(reason)
    this.agent.haltWith(reason)
    this.agent.log.warn({ tickNumber: this.agent.tickNumber.toString(), budget: this.agent.budget.toString() }, `agent halted: ${reason}`)
  }
}
