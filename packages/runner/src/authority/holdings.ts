import type { Epoch } from '@igor/epoch'
import { AuthorityState } from '@igor/lease'
import type { AgentHost } from '../agent-host.js'
import type { CheckpointStore } from '../store/index.js'
import type { FenceStore } from './fences.js'
import { knownAgentKey } from './stake.js'
import type { ProvenStake } from './stake.js'

/**
 * What a node holds for one agent, as `/igor/authority/1.0.0` reports it
 * (issue 12 item 4; packages/migration/README.md has the protocol).
 *
 * - `copy`: a live instance, or a checkpoint on disk (in `state`, at `epoch`).
 * - `tombstone`: the agent left this node (or a stale copy was dropped) at `epoch`.
 * - `none`: nothing — an authority record without a checkpoint (an admission
 *   that crashed before its checkpoint was durable, so it never replied
 *   success) counts as nothing too.
 * - `unknown`: the asker proved no stake in the agent (SPEC §7): nothing is
 *   said, nothing is fenced.
 */
export interface AuthorityHolding {
  readonly held: 'copy' | 'tombstone' | 'none' | 'unknown'
  readonly state: AuthorityState | null
  readonly epoch: Epoch | null
  readonly movedTo?: string
  /**
   * The fence in force after the query (this node refuses every package for
   * the agent, signed by the proven key, at or below it), or null when the
   * node holds something newer than the epoch asked about and so did not fence.
   */
  readonly fenced: Epoch | null
  /** Why the answer is `unknown` (for the log; never sent). */
  readonly why?: string
}

/** Who asks, and what it proved (SPEC §7 "Authority answers are earned"). */
export interface AuthorityStake {
  /** The asker's libp2p peer id (authenticated by the connection). */
  readonly peer: string
  /** A verified stake proof (see `verifyStakeProof`), or null. */
  readonly proven: ProvenStake | null
}

/** The part of a node the answer is read from. */
export interface HoldingSources {
  readonly host: AgentHost | undefined
  readonly store: CheckpointStore
  readonly fences: FenceStore
}

const UNKNOWN = (why: string): AuthorityHolding => ({ held: 'unknown', state: null, epoch: null, fenced: null, why })
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** `peer` is the peer id itself or a multiaddr ending in `/p2p/<peer id>`. */
function names(peer: string | undefined, asker: string): boolean {
  return peer !== undefined && (peer === asker || peer.endsWith(`/p2p/${asker}`))
}

/**
 * Answers "what do you hold for `agentId` (asked at `asked`)?". The caller
 * runs this with the agent's admission lock held, so an admission in progress
 * has finished (or not started) and none starts until the answer, and its
 * fence, are durable.
 *
 * SPEC §7: only an asker with a stake gets an answer (and a fence):
 * - the peer named by this node's hand-off record for the agent (the
 *   authority record's peer, the tombstone's `movedTo`); its fence goes no
 *   higher than the epoch of that record;
 * - or one that proved the agent key: equal to the key this node knows for
 *   the agent (identity, checkpoint, history), or, when this node never held
 *   a signed copy, any key — the fence is then for that key only, so it
 *   refuses nothing of another agent under the same id. Its fence goes no
 *   higher than the epoch of the header it presented.
 * Anyone else, or a fence over the cap: `unknown`, nothing written.
 *
 * A store error (an undecodable checkpoint, a failing disk) is thrown: the
 * asker then has no definite answer and stays RECOVERY_REQUIRED.
 */
export async function answerHolding(agentId: string, asked: Epoch, stake: AuthorityStake, from: HoldingSources): Promise<AuthorityHolding> {
  const [held, record, tombstone, knownKey] = await Promise.all([
    readHolding(agentId, from),
    from.store.readAuthority(agentId).catch(() => null),
    from.store.readTombstone(agentId).catch(() => null),
    knownAgentKey(from.store.dir, agentId)
  ])
  const recorded = names(record?.peer, stake.peer) || names(tombstone?.movedTo, stake.peer) || names(from.host?.handoffPeer, stake.peer)
  const proven = stake.proven
  let keyed = false
  if (proven !== null) {
    if (knownKey !== null) keyed = hex(knownKey) === hex(proven.agentPubKey)
    else keyed = held.held === 'none' // an identity-less copy here cannot be checked against any key
  }
  if (!recorded && !keyed) {
    return UNKNOWN(proven === null ? 'no stake proof, and not the peer of this node’s hand-off record' : 'the proven key is not the agent key held here')
  }
  if (held.epoch !== null && held.epoch.supersedes(asked)) return { ...held, fenced: null }
  // Nothing newer here: fence first (durably), no higher than the proven epoch, then say so.
  const ceiling = keyed ? proven!.epoch : (record?.epoch ?? tombstone?.epoch ?? held.epoch)
  if (ceiling === null) return { ...held, fenced: null }
  const at = asked.supersedes(ceiling) ? ceiling : asked
  const key = knownKey !== null ? hex(knownKey) : keyed ? hex(proven!.agentPubKey) : null
  const fenced = await from.fences.raise(agentId, at, { key, peer: stake.peer })
  if (fenced === null) return UNKNOWN(`the node's fence records are full (${from.fences.cap})`)
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
