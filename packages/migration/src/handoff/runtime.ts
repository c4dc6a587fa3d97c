import type { Epoch } from '@igor/epoch'
import type { AgentStatus, HandoffSnapshot, IncomingAgent } from '@igor/runner'

/**
 * What the hand-off protocol needs from the node's agents. `NodeRuntime` of
 * `@igor/runner` implements it; tests may substitute their own.
 */
export interface HandoffRuntime {
  /** This node's price, microcents per second. */
  readonly pricePerSecond: bigint
  /** SPEC §7 source 1: durable HANDOFF_INITIATED, in-flight tick done, final checkpoint at the live epoch. */
  beginHandoff(agentId: string, peer: string): Promise<HandoffSnapshot>
  /** Source 2: durable HANDOFF_PENDING. */
  markHandoffPending(agentId: string, peer: string): Promise<void>
  /** Source 3: durable RETIRED, tombstone, checkpoint deleted, instance stopped. */
  completeHandoff(agentId: string, movedTo: string): Promise<void>
  /** Source 4: back to ACTIVE_OWNER at (M,G+1). */
  revertHandoff(agentId: string, reason: string): Promise<Epoch>
  /** Source 5: durable RECOVERY_REQUIRED. */
  failHandoff(agentId: string, reason: string): Promise<void>
  /** Target 2–3: verify, load, grant (M+1,0), persist — everything before the reply. */
  admitAgent(incoming: IncomingAgent): Promise<AgentStatus>
  /** Target 3: start ticking after the reply. */
  startAdmitted(agentId: string): void
  /** SPEC §7 "What a peer can and cannot do", §11: admissions marked while in progress, and refused at the door (optional). */
  readonly admissions?: AdmissionDoor
}

/**
 * An admission in progress is marked with its peer and, once decoded, its
 * agent id, so a node that dies while decoding or loading a package counts
 * it against both; after 3 such deaths both are refused at the door.
 */
export interface AdmissionDoor {
  /** Why admissions from `peer` (or of `agentId`) are refused, or null. */
  refusal(who: { peer?: string, agentId?: string }): string | null
  /** Marks an admission from `peer` as in progress until `end()`. */
  begin(peer: string): AdmissionMark
}

export interface AdmissionMark {
  /** The agent id is known (read from the package): the mark names it too. */
  agent(agentId: string): void
  /** The admission ended (admitted or refused) without killing the node. */
  end(): void
}
