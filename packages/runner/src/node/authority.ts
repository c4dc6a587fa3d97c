// SPEC §3 RECOVERY_REQUIRED → ACTIVE_OWNER, §7 "Authority answers are earned" (issue 12 items 2 and 4):
// the operator's `recover` and `retire` of a copy held here, their epoch-checked forms used by
// network-assisted recovery, and the answering side of `/igor/authority/1.0.0` — what this node holds
// for an agent, asked after any admission of it has finished, fenced durably before the answer.
import type { Epoch } from '@igor/epoch'
import { AuthorityState } from '@igor/lease'
import type { AgentStatus } from '../agent-host.js'
import { answerHolding } from '../authority/holdings.js'
import type { AuthorityHolding, AuthorityStake } from '../authority/holdings.js'
import { readStakeSigner } from '../authority/stake.js'
import type { StakeSigner } from '../authority/stake.js'
import { RunnerError } from '../errors.js'
import { validateAgentId } from '../store/index.js'
import type { NodeContext } from './context.js'

/** Recovery, retirement of stale copies and authority answers (see the file comment). */
export class AuthorityDesk {
  constructor(private readonly ctx: NodeContext) {}

  /**
   * `/igor/authority/1.0.0`, answering side: what this node holds for the agent,
   * after any admission of it in progress has finished; fenced at `asked`
   * (durably, before returning) when it holds nothing newer.
   */
  async answerAuthorityQuery(agentId: string, asked: Epoch, stake: AuthorityStake, waitMs = 20_000): Promise<AuthorityHolding> {
    validateAgentId(agentId)
    const deadline = performance.now() + waitMs
    while (this.ctx.busy.has(agentId)) {
      if (performance.now() > deadline) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is still being admitted; no answer yet`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return this.ctx.exclusive(agentId, async () => answerHolding(agentId, asked, stake, { host: this.ctx.hosts.get(agentId), store: this.ctx.store, fences: this.ctx.fences }))
  }

  /** The asking side's proof of stake (SPEC §7): the agent key and its latest checkpoint header here, or null. */
  async authorityStake(agentId: string): Promise<StakeSigner | null> {
    return readStakeSigner(this.ctx.store.dir, agentId)
  }

  /** Agents this node holds in RECOVERY_REQUIRED with a live instance, with the peer of their interrupted hand-off. */
  recoveryCandidates(): Array<{ agentId: string, epoch: Epoch, peer?: string }> {
    const out: Array<{ agentId: string, epoch: Epoch, peer?: string }> = []
    for (const [agentId, host] of this.ctx.hosts) {
      const status = host.status()
      if (status.state !== AuthorityState.RECOVERY_REQUIRED || !host.recoverable) continue
      const peer = host.handoffPeer
      out.push({ agentId, epoch: status.epoch, ...(peer !== undefined ? { peer } : {}) })
    }
    return out
  }

  /** `igord recover <agentId>`: the explicit recovery action (SPEC §3 RECOVERY_REQUIRED → ACTIVE_OWNER). */
  async recover(agentId: string): Promise<AgentStatus> {
    return this.ctx.requireHost(agentId).recover()
  }

  /**
   * `igord retire <agentId>` (issue 12 item 2): drops a stale copy — one that is
   * RECOVERY_REQUIRED or stuck in a hand-off — leaving a tombstone. Refused for
   * the live owner (ACTIVE_OWNER), so an operator can never delete the agent.
   */
  async retire(agentId: string, movedTo = 'retired by operator', why = 'retired by the operator'): Promise<AgentStatus> {
    const host = this.ctx.requireHost(agentId)
    await host.retireStale(movedTo, why)
    const status = host.status()
    if (this.ctx.hosts.get(agentId) === host) this.ctx.hosts.delete(agentId)
    return status
  }

  /** recover(), only if the agent is still RECOVERY_REQUIRED at `epoch` (the epoch the peers were asked about). */
  async recoverAt(agentId: string, epoch: Epoch): Promise<AgentStatus> {
    this.requireAt(agentId, epoch)
    return this.recover(agentId)
  }

  /** retire(), only if the agent is still at `epoch` (never the owner: retireStale refuses ACTIVE_OWNER). */
  async retireAt(agentId: string, epoch: Epoch, movedTo: string, why: string): Promise<AgentStatus> {
    this.requireAt(agentId, epoch)
    return this.retire(agentId, movedTo, why)
  }

  private requireAt(agentId: string, epoch: Epoch): void {
    const host = this.ctx.requireHost(agentId)
    if (!host.epoch.equals(epoch)) throw new RunnerError('FENCED', `agent ${agentId} is at ${host.epoch} now, not ${epoch}; nothing done`)
  }
}
