// SPEC §7 source side, §3 durable authority record, §12 ReplayData and identity: the steps of a hand-off
// as this node sees them — HANDOFF_INITIATED durable and the final state copied out (nothing leaves
// before both), PENDING, RETIRED with a tombstone, the revert to ACTIVE_OWNER at (M,G+1), the unknown
// outcome into RECOVERY_REQUIRED — and a stale copy's retirement (issue 12 item 2) or its yielding to a
// proven successor (SPEC §7), each under the agent's mutex.
import type { Epoch } from '@igor/epoch'
import { AuthorityError, AuthorityState } from '@igor/lease'
import { RunnerError } from '../errors.js'
import { REFERENCE_MAX_HOSTCALL_ID, decodeEntries, firstDifference } from '@igor/sandbox'
import { removeIdentity } from '../lineage/open.js'
import type { Checkpoints } from './checkpoints.js'
import type { LiveAgent } from './live-agent.js'
import { deleteReceiptsFile } from '../receipts/files.js'
import { deletePaymentsFiles } from '../payments/files.js'
import type { TickLoop } from './tick-loop.js'
import type { HandoffReplayData, HandoffSnapshot } from './types.js'

/** The hand-off, source side, and the end of a stale copy (see the file comment). */
export class HandoffSource {
  constructor(private readonly agent: LiveAgent, private readonly checkpoints: Checkpoints, private readonly ticks: TickLoop) {}

  /** Step 1–2: durable HANDOFF_INITIATED, in-flight tick finished, final checkpoint at the live epoch. */
  async beginHandoff(peer: string): Promise<HandoffSnapshot> {
    return this.agent.mutex.run(async () => {
      if (this.agent.halted !== null) throw new RunnerError('AGENT_HALTED', `agent ${this.agent.agentId} is halted (${this.agent.halted}); it cannot be migrated`)
      // A migrate that finds the lease expired beyond grace changes authority
      // (→ RECOVERY_REQUIRED): durable and logged before the refusal is reported.
      await this.ticks.validateOrExpire()
      this.agent.lease.beginHandoff()
      this.agent.peer = peer
      this.agent.cancelTimer()
      let checkpoint: Uint8Array
      let replayData: HandoffReplayData | null = null
      try {
        // The final state is copied out and signed while HANDOFF_INITIATED is made durable: nothing
        // leaves this node before both are done, and the fsync no longer sits in front of the copy.
        const [written, snapshot] = await Promise.allSettled([
          this.checkpoints.writeAuthority(undefined, peer),
          (async () => {
            const encoded = await this.checkpoints.encodeLive()
            // Replay data is an extra: without it the target simply does not replay.
            return { encoded, replay: await this.replayDataForHandoff().catch(() => null) }
          })()
        ])
        if (written.status === 'rejected') throw written.reason
        if (snapshot.status === 'rejected') throw snapshot.reason
        checkpoint = snapshot.value.encoded
        replayData = snapshot.value.replay
      } catch (error) {
        // Nothing has left this node: take authority back at (M,G+1) and tick on.
        await this.revertLocally(`could not prepare the hand-off: ${(error as Error).message}`)
        throw error
      }
      const receipts = this.agent.receipts
      const payments = this.agent.payments
      // SPEC §15 wallet_pay: every payment travels (Package.Payments); the pending ones are logged after the checkpoint as in saveCheckpoint.
      const paymentsBlob = payments !== null && payments.count > 0 ? payments.blob() : undefined
      // SPEC §15: the stay's receipt is sealed at the final checkpoint (sent in the package), written once it is durable.
      const sealed = receipts?.sealNow({ tick: this.agent.tickNumber, budget: this.agent.budget }, payments?.pendingTotal() ?? 0n)
      const at = { tick: this.agent.tickNumber, budget: this.agent.budget }
      const persisted = (async () => {
        await this.checkpoints.persist(checkpoint)
        this.agent.durable = at
        this.agent.lastCheckpointAt = performance.now()
        await payments?.commit()
        await receipts?.flush()
        await payments?.settle()
      })()
      persisted.catch(() => undefined) // the caller awaits it; this only keeps an early failure from going unhandled
      return {
        agentId: this.agent.agentId,
        module: this.agent.module,
        checkpoint,
        persisted,
        epoch: this.agent.lease.epoch,
        budget: this.agent.budget,
        pricePerSecond: this.agent.pricePerSecond,
        tickNumber: this.agent.tickNumber,
        replayData,
        ...(this.agent.lineage !== undefined ? { identity: this.agent.lineage.identity.toBytes() } : {}),
        ...(sealed !== undefined ? { receipts: sealed } : {}),
        ...(paymentsBlob !== undefined ? { payments: paymentsBlob } : {})
      }
    })
  }

  /**
   * SPEC §12: the last tick's record, only when that tick produced exactly the
   * state just checkpointed (same tick number, same bytes) and used no id the
   * reference cannot replay (above 9).
   */
  private async replayDataForHandoff(): Promise<HandoffReplayData | null> {
    const last = this.agent.lastRecorded
    const state = this.agent.lastLiveState
    const skip = (why: string): null => {
      this.agent.log.debug({ tickNumber: this.agent.tickNumber.toString() }, `no ReplayData in the package: ${why}`)
      return null
    }
    if (last === null || state === null || last.tickNumber !== this.agent.tickNumber) return skip('the last tick was not recorded')
    if (last.highestId > REFERENCE_MAX_HOSTCALL_ID) return skip(`the last tick used hostcall id ${last.highestId}, which the reference cannot replay`)
    const record = await this.agent.sandbox.tickRecord()
    if (record === null) return skip('the worker kept no record of the last tick')
    if (firstDifference(record.post, state) !== -1) return skip('the state changed after the last tick')
    return { preTickState: record.pre, tickNumber: last.tickNumber, entries: decodeEntries(record.log) }
  }

  /** Step 2: the package has been handed to the network. */
  async markHandoffPending(peer: string): Promise<void> {
    await this.agent.mutex.run(async () => {
      this.agent.lease.markPending()
      await this.checkpoints.writeAuthority(undefined, peer)
    })
  }

  /** Step 3: the target confirmed. RETIRED (durable), tombstone, checkpoint deleted, instance stopped. */
  async retire(movedTo: string): Promise<void> {
    await this.agent.mutex.run(async () => {
      const finalEpoch = this.agent.lease.epoch
      this.agent.lease.retire()
      this.agent.stopped = true
      this.agent.cancelTimer()
      await this.agent.store.writeTombstone(this.agent.agentId, { agentId: this.agent.agentId, epoch: finalEpoch, movedTo, retiredAtNs: this.agent.nowNs(), ...this.agent.agentKey() })
      await this.checkpoints.writeAuthority(undefined, movedTo)
      await this.agent.store.delete(this.agent.agentId)
      await this.agent.store.deleteModule(this.agent.agentId)
      if (this.agent.receipts !== null) await deleteReceiptsFile(this.agent.store.dir, this.agent.agentId) // SPEC §15: they left with the agent
      await deletePaymentsFiles(this.agent.store.dir, this.agent.agentId) // SPEC §15 wallet_pay: so did the payments
      // SPEC §12: the identity file goes only now, with the agent RETIRED here (the target has it).
      await removeIdentity(this.agent.store.dir, this.agent.agentId)
      await this.agent.sandbox.terminate()
      this.agent.log.info({ movedTo, epoch: finalEpoch.toString() }, 'agent handed off; retired here')
    })
  }

  /**
   * Step 4: the target definitely refused (or the package never left this
   * node). Back to ACTIVE_OWNER at (M,G+1), durable, and tick on.
   */
  async revertHandoff(reason: string): Promise<Epoch> {
    return this.agent.mutex.run(async () => this.revertLocally(reason))
  }

  private async revertLocally(reason: string): Promise<Epoch> {
    this.agent.lease.revertHandoff()
    this.agent.peer = undefined
    try {
      await this.checkpoints.saveCheckpoint()
      await this.checkpoints.writeAuthority()
    } catch (error) {
      // Cannot make the revert durable: do not tick on an authority the disk does not show.
      const why = `hand-off reverted but not persisted: ${(error as Error).message}`
      this.agent.lease.enterRecovery(why)
      this.agent.haltWith(why)
      await this.checkpoints.writeAuthority(why).catch(() => undefined)
      throw error
    }
    this.agent.log.warn({ reason, epoch: this.agent.lease.epoch.toString() }, 'hand-off did not happen; agent stays here')
    this.ticks.schedule(0)
    return this.agent.lease.epoch
  }

  /** Step 5: the outcome is unknown. RECOVERY_REQUIRED (durable); nothing ticks until an operator decides. */
  async failHandoff(reason: string): Promise<void> {
    await this.agent.mutex.run(async () => {
      this.agent.lease.enterRecovery(reason)
      this.agent.haltWith(reason)
      await this.checkpoints.writeAuthority(reason)
      this.agent.log.error({ reason }, 'hand-off outcome unknown; agent needs explicit recovery')
    })
  }

  /**
   * Drops a stale copy (issue 12 item 2): a copy that is not ACTIVE_OWNER —
   * RECOVERY_REQUIRED or stuck in a hand-off — becomes a tombstone at the epoch
   * it holds, durably (tombstone, then the RETIRED authority record, then the
   * checkpoint removed), and never ticks here again. `movedTo` says why/where.
   */
  async retireStale(movedTo: string, why: string): Promise<Epoch> {
    return this.agent.mutex.run(async () => {
      if (this.agent.lease.state === AuthorityState.ACTIVE_OWNER || this.agent.lease.state === AuthorityState.RETIRED) {
        throw new AuthorityError('INVALID_TRANSITION', `agent ${this.agent.agentId} is ${this.agent.lease.state} at ${this.agent.lease.epoch} here; only a RECOVERY_REQUIRED or HANDOFF_* copy can be retired`)
      }
      const epoch = this.agent.lease.epoch
      this.agent.stopped = true
      this.agent.cancelTimer()
      await this.agent.store.writeTombstone(this.agent.agentId, { agentId: this.agent.agentId, epoch, movedTo, retiredAtNs: this.agent.nowNs(), ...this.agent.agentKey() })
      await this.agent.store.writeAuthority(this.agent.agentId, { state: AuthorityState.RETIRED, epoch, updatedAtNs: this.agent.nowNs(), reason: why, peer: movedTo })
      this.agent.shown = { ...this.agent.shown, state: AuthorityState.RETIRED }
      this.agent.haltWith(`retired: ${why}`)
      await this.agent.store.delete(this.agent.agentId)
      await this.agent.store.deleteModule(this.agent.agentId)
      if (this.agent.receipts !== null) await deleteReceiptsFile(this.agent.store.dir, this.agent.agentId) // SPEC §15: they left with the agent
      await deletePaymentsFiles(this.agent.store.dir, this.agent.agentId) // SPEC §15 wallet_pay: so did the payments
      // SPEC §12: the identity file goes only now, with the agent RETIRED here.
      await removeIdentity(this.agent.store.dir, this.agent.agentId)
      await this.agent.sandbox.terminate()
      this.agent.log.warn({ epoch: epoch.toString(), movedTo }, `stale copy retired: ${why}`)
      return epoch
    })
  }

  /**
   * SPEC §7 "A held copy yields only to a proven successor": runs the
   * successor's admission with this copy held still (its mutex: no tick,
   * recovery or retirement of it in between). The admission writes the
   * successor's files over this copy's; only when it succeeded does this copy
   * stop for good, writing nothing more. If it fails, this copy is untouched.
   */
  async yieldToSuccessor<T>(why: string, admit: () => Promise<T>): Promise<T> {
    return this.agent.mutex.run(async () => {
      if (this.agent.stopped || this.agent.lease.state === AuthorityState.ACTIVE_OWNER || this.agent.lease.state === AuthorityState.RETIRED) {
        throw new AuthorityError('INVALID_TRANSITION', `agent ${this.agent.agentId} is ${this.agent.lease.state} at ${this.agent.lease.epoch} here; only a RECOVERY_REQUIRED or HANDOFF_* copy can be superseded`)
      }
      const result = await admit()
      this.agent.stopped = true
      this.agent.cancelTimer()
      this.agent.verifier?.close()
      this.agent.shown = { ...this.agent.shown, state: AuthorityState.RETIRED }
      this.agent.haltWith(`retired: ${why}`)
      await this.agent.sandbox.terminate().catch(() => undefined)
      this.agent.log.warn({ epoch: this.agent.lease.epoch.toString() }, `stale copy retired: ${why}`)
      return result
    })
  }
}
