import { type Checkpoint, HEADER_LENGTH_V4 } from '@igor/checkpoint-codec'
import type { AgentIdentity } from '@igor/identity'
import { type AuthorityAnswer, PeerRegistry, askAuthority, splitPeerAddress, createIgorLibp2p, loadOrCreateNodeKey } from '@igor/migration'
import { type Logger, RunnerError, type StakeSigner } from '@igor/runner'

export interface ForceCheck {
  /** The data directory: its node key and its known peers (`peers.json`). */
  readonly dataDir: string
  /** `--peer` addresses given on this command line. */
  readonly peers: readonly string[]
  readonly agentId: string
  readonly checkpoint: Checkpoint
  /** The checkpoint as read: presented to the peers as this asker's stake (SPEC §7 "Authority answers are earned"). */
  readonly checkpointBytes: Uint8Array
  /** The agent's identity (`--identity`, or the data directory's): signs the stake proof. Null for an identity-less (v0x03) agent. */
  readonly identity: AgentIdentity | null
  readonly log: Logger
  readonly timeoutMs?: number
}

/**
 * SPEC §12 `igord resume --force`: before a raw checkpoint starts a new epoch
 * here, every known peer is asked over `/igor/authority/1.0.0` what it holds
 * for the agent, and the resume is refused if any holds it (a copy or a
 * tombstone) at the checkpoint's epoch or above, or answers without saying
 * (`unknown`: it did not accept the stake; `error`: rate-limited or busy). A
 * peer that does not answer at all cannot be heard (it may be the node that
 * is gone for good): it is logged, not waited for. The query runs from a short-lived libp2p node with this
 * data directory's key, stopped before the node's own network starts.
 */
export async function askPeersBeforeForce(check: ForceCheck): Promise<void> {
  const { agentId, checkpoint, log } = check
  const epoch = checkpoint.epoch
  const book = await PeerRegistry.open(check.dataDir, { configured: check.peers, logger: log })
  const privateKey = await loadOrCreateNodeKey(check.dataDir)
  const addresses = book.addresses()
  await book.flush()
  if (addresses.length === 0) {
    log.warn({ agentId, epoch: epoch.toString() }, 'resume --force: no known peer to ask (give --peer <multiaddr>); starting on the operator\'s word')
    return
  }
  // SPEC §7: answers are earned — the copy's own signed header, and the agent key, prove this asker's stake.
  const identity = check.identity
  const stake: StakeSigner | null = identity !== null && checkpoint.lineage !== null
    ? { header: check.checkpointBytes.subarray(0, HEADER_LENGTH_V4), epoch, sign: (statement) => identity.sign(statement) }
    : null
  const node = await createIgorLibp2p({ privateKey, listen: [], identify: false })
  let replies: Array<{ address: string, answer?: AuthorityAnswer, error?: string }>
  try {
    replies = await Promise.all(addresses.filter((a) => !a.endsWith(`/p2p/${node.peerId.toString()}`)).map(async (address) => {
      try {
        return { address, answer: await askAuthority(node, address, agentId, epoch, check.timeoutMs ?? 10_000, stake) }
      } catch (error) {
        return { address, error: (error as Error).message }
      }
    }))
  } finally {
    try {
      await node.stop()
    } catch {
      // the answers are what matter
    }
  }
  // SPEC §16: a peer that answered is seen (a dead old address of a live peer is no failure of that peer).
  for (const reply of replies) {
    const peerId = splitPeerAddress(reply.address)?.peerId
    if (reply.answer === undefined || peerId === undefined) continue
    book.recordContact(peerId, [reply.address]) // a fresh node with no other connection: the address did answer
    book.recordSuccess(peerId)
  }
  await book.flush()
  for (const reply of replies) {
    const answer = reply.answer
    if (answer === undefined) {
      log.warn({ agentId, peer: reply.address }, `resume --force: no answer from ${reply.address} (${reply.error ?? 'unknown'})`)
      continue
    }
    if ((answer.Held === 'copy' || answer.Held === 'tombstone') && answer.Epoch !== null && !epoch.supersedes(answer.Epoch)) {
      const what = answer.Held === 'copy'
        ? `holds ${agentId} at ${answer.Epoch.toString()}${answer.State !== null ? ` (${answer.State})` : ''}`
        : `retired ${agentId} at ${answer.Epoch.toString()}${answer.MovedTo !== null ? ` (moved to ${answer.MovedTo})` : ''}`
      throw new RunnerError('FENCED', `peer ${answer.NodeID} ${what}, not older than this checkpoint's ${epoch.toString()}; not resumed (export it on that node with 'igord export')`)
    }
    // A peer that answers but will not say (it does not accept this stake, or is rate-limiting) may hold the agent:
    // --force goes ahead only past peers that are gone or that said they hold nothing newer.
    if (answer.Held === 'error' || answer.Held === 'unknown') {
      throw new RunnerError('FENCED', `peer ${answer.NodeID} could not tell whether it holds ${agentId} (${answer.Held}${answer.Error !== '' ? `: ${answer.Error}` : ''}); not resumed — try again, or stop asking that peer if it is gone for good`)
    }
    log.info({ agentId, peer: reply.address, held: answer.Held }, 'resume --force: peer holds nothing newer')
  }
}
