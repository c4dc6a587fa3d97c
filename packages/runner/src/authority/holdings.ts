import type { Epoch } from '@igor/epoch'
import { AuthorityState } from '@igor/lease'
import type { AgentHost } from '../agent-host.js'
import type { CheckpointStore } from '../store/index.js'
import type { FenceStore } from './fences.js'

/**
 * What a node holds for one agent, as `/igor/authority/1.0.0` reports it
 * (issue 12 item 4; packages/migration/README.md has the protocol).
 *
 * - `copy`: a live instance, or a checkpoint on disk (in `state`, at `epoch`).
 * - `tombstone`: the agent left this node (or a stale copy was dropped) at `epoch`.
 * - `none`: nothing — an authority record without a checkpoint (an admission
 *   that crashed before its checkpoint was durable, so it never replied
 *   success) counts as nothing too.
 */
export interface AuthorityHolding {
  readonly held: 'copy' | 'tombstone' | 'none'
  readonly state: AuthorityState | null
  readonly epoch: Epoch | null
  readonly movedTo?: string
  /**
   * The fence in force after the query (this node refuses every package for
   * the agent at or below it), or null when the node holds something newer
   * than the epoch asked about and so did not fence.
   */
  readonly fenced: Epoch | null
}

/** The part of a node the answer is read from. */
export interface HoldingSources {
  readonly host: AgentHost | undefined
  readonly store: CheckpointStore
  readonly fences: FenceStore
}

/**
 * Answers "what do you hold for `agentId` (asked at `asked`)?". The caller
 * runs this with the agent's admission lock held, so an admission in progress
 * has finished (or not started) and none starts until the answer, and its
 * fence, are durable.
 *
 * A store error (an undecodable checkpoint, a failing disk) is thrown: the
 * asker then has no definite answer and stays RECOVERY_REQUIRED.
 */
export async function answerHolding(agentId: string, asked: Epoch, from: HoldingSources): Promise<AuthorityHolding> {
  const held = await readHolding(agentId, from)
  if (held.epoch !== null && held.epoch.supersedes(asked)) return { ...held, fenced: null }
  // Nothing newer here: fence first (durably), then say so.
  const fenced = await from.fences.raise(agentId, asked)
  return { ...held, fenced }
}

async function readHolding(agentId: string, { host, store }: HoldingSources): Promise<Omit<AuthorityHolding, 'fenced'>> {
  if (host !== undefined) {
    const status = host.status() // the durable state (AgentHost.status never runs ahead of the disk)
    return { held: 'copy', state: status.state, epoch: status.epoch }
  }
  const [stored, authority, tombstone] = await Promise.all([
    store.storedEpoch(agentId),
    store.readAuthority(agentId),
    store.readTombstone(agentId)
  ])
  if (stored !== null && authority?.state !== AuthorityState.RETIRED) {
    const epoch = authority !== null && authority.epoch.supersedes(stored) ? authority.epoch : stored
    return { held: 'copy', state: authority?.state ?? AuthorityState.ACTIVE_OWNER, epoch }
  }
  if (tombstone !== null) return { held: 'tombstone', state: AuthorityState.RETIRED, epoch: tombstone.epoch, movedTo: tombstone.movedTo }
  if (authority?.state === AuthorityState.RETIRED) return { held: 'tombstone', state: AuthorityState.RETIRED, epoch: authority.epoch }
  return { held: 'none', state: null, epoch: null }
}
