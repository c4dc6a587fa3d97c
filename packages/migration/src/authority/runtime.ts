import type { Epoch } from '@igor/epoch'
import type { AgentStatus, AuthorityHolding, AuthorityStake, StakeSigner } from '@igor/runner'

/**
 * What `/igor/authority/1.0.0` and assisted recovery need from the node.
 * `NodeRuntime` of `@igor/runner` implements it.
 */
export interface AuthorityRuntime {
  /**
   * Answering side: holdings after any admission in progress, fenced at `asked`
   * (no higher than the proven epoch) when nothing newer is held; `unknown`
   * for an asker without a stake (SPEC §7).
   */
  answerAuthorityQuery(agentId: string, asked: Epoch, stake: AuthorityStake): Promise<AuthorityHolding>
  /** Asking side: the agent key and its latest checkpoint header, to prove a stake; null when there is none. */
  authorityStake?(agentId: string): Promise<StakeSigner | null>
  /** RECOVERY_REQUIRED agents with a live instance, and the peer of their interrupted hand-off. */
  recoveryCandidates(): Array<{ agentId: string, epoch: Epoch, peer?: string }>
  /** RECOVERY_REQUIRED → ACTIVE_OWNER at a higher generation, only if still at `epoch`. */
  recoverAt(agentId: string, epoch: Epoch): Promise<AgentStatus>
  /** The stale copy becomes a tombstone, only if still at `epoch` (never the owner). */
  retireAt(agentId: string, epoch: Epoch, movedTo: string, why: string): Promise<AgentStatus>
}

export function isAuthorityRuntime(runtime: unknown): runtime is AuthorityRuntime {
  const r = runtime as Partial<AuthorityRuntime> | null
  return r !== null && typeof r.answerAuthorityQuery === 'function' && typeof r.recoveryCandidates === 'function' &&
    typeof r.recoverAt === 'function' && typeof r.retireAt === 'function'
}
