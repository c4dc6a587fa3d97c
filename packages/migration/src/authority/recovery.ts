import type { Epoch } from '@igor/epoch'
import type { Libp2p } from '@libp2p/interface'
import type { AgentStatus, Logger } from '@igor/runner'
import { MigrationError, describeCause } from '../errors.js'
import { decideRecovery } from './decide.js'
import type { PeerReply, RecoveryDecision } from './decide.js'
import type { PeerRegistry } from '../peers/registry.js'
import { splitPeerAddress } from '../peers/file.js'
import { askAuthority } from './query.js'
import type { AuthorityRuntime } from './runtime.js'

export type RecoveryMode = 'manual' | 'assisted'

export interface RecoveryOptions {
  readonly node: Libp2p
  readonly runtime: AuthorityRuntime
  readonly peers: PeerRegistry
  readonly logger: Logger
  readonly mode: RecoveryMode
  /** First retry after this long; doubles up to `maxBackoffMs` (defaults 1 s, 30 s). */
  readonly retryMs?: number
  readonly maxBackoffMs?: number
  readonly queryTimeoutMs?: number
}

export interface RecoveryOutcome {
  readonly agentId: string
  readonly decision: RecoveryDecision
  readonly asked: readonly string[]
  /** The agent's row after the action (absent for `wait`). */
  readonly status?: AgentStatus
}

/**
 * Network-assisted recovery (issue 12 item 4). In `assisted` mode a loop looks
 * at every RECOVERY_REQUIRED agent and asks:
 * - after an ambiguous hand-off: the peer on the authority record;
 * - otherwise (paused past the lease, no hand-off in flight): every known peer;
 * then retires, recovers or waits (README "Authority protocol"). A peer that
 * does not answer is asked again with exponential backoff. `resolve()` runs
 * the same query on demand (`igord recover <id> --ask …`) in either mode.
 */
export class AssistedRecovery {
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  private readonly inFlight = new Set<string>()
  private readonly backoff = new Map<string, { epoch: string, delayMs: number, dueAt: number }>()

  constructor(private readonly options: RecoveryOptions) {}

  start(): void {
    if (this.options.mode !== 'assisted') return
    this.schedule(this.options.retryMs ?? 1000)
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  /** One on-demand resolution: asks `addresses` (default: as the loop would) and acts on the answers. */
  async resolve(agentId: string, addresses?: readonly string[]): Promise<RecoveryOutcome> {
    const candidate = this.options.runtime.recoveryCandidates().find((c) => c.agentId === agentId)
    if (candidate === undefined) throw new MigrationError('NO_DEFINITE_ANSWER', `agent ${agentId} is not RECOVERY_REQUIRED on this node (or has no live instance); nothing to resolve`)
    if (this.inFlight.has(agentId)) throw new MigrationError('NO_DEFINITE_ANSWER', `a recovery query for ${agentId} is already running`)
    this.inFlight.add(agentId)
    try {
      // The operator's addresses are learned (and asked first), then each peer's current ones (SPEC §16).
      for (const address of addresses ?? []) {
        const split = splitPeerAddress(address)
        if (split !== null) this.options.peers.remember(split.peerId, [address])
      }
      const ask = addresses !== undefined ? addresses.map((a) => this.withCurrent(a)) : this.peersFor(candidate)
      return await this.run(agentId, candidate.epoch, ask)
    } finally {
      this.inFlight.delete(agentId)
    }
  }

  /**
   * Whom to ask, one address list per peer (SPEC §16: the registry's CURRENT
   * addresses first, so a peer that restarted on a new port is still reached):
   * after an ambiguous hand-off the peer on the authority record; otherwise every known peer.
   */
  private peersFor(candidate: { peer?: string }): string[][] {
    if (candidate.peer !== undefined) return [this.withCurrent(candidate.peer)]
    const self = this.options.node.peerId.toString()
    return this.options.peers.list().filter((e) => e.peerId !== self && e.addresses.length > 0).map((e) => [...e.addresses])
  }

  /** `address` and the registry's current addresses of the same peer: the registry's first, then `address`. */
  private withCurrent(address: string): string[] {
    const split = splitPeerAddress(address)
    if (split === null) return [address]
    const current = this.options.peers.addressesOf(split.peerId)
    return [...current, ...current.includes(split.address) ? [] : [address]]
  }

  /** One peer's answer: its addresses tried in order until one can be dialled; the registry learns how it went. */
  private async askPeer(addresses: readonly string[], agentId: string, epoch: Epoch, stake: Parameters<typeof askAuthority>[5]): Promise<PeerReply> {
    let last: PeerReply = { address: addresses[0] ?? '', error: 'no address' }
    for (const address of addresses) {
      const peerId = splitPeerAddress(address)?.peerId
      try {
        const answer = await askAuthority(this.options.node, address, agentId, epoch, this.options.queryTimeoutMs ?? 30_000, stake)
        if (peerId !== undefined) {
          this.options.peers.recordAnswer(peerId, address, address !== addresses[0]) // earlier ones could not be dialled
          this.options.peers.recordSuccess(peerId)
        }
        return { address, answer }
      } catch (error) {
        last = { address, error: describeCause(error) }
        if ((error as { code?: string }).code === 'DIAL_FAILED') continue // another address of the same peer may answer
        if (peerId !== undefined) this.options.peers.recordFailure(peerId)
        return last
      }
    }
    const peerId = splitPeerAddress(last.address)?.peerId
    if (peerId !== undefined) this.options.peers.recordFailure(peerId)
    return last
  }

  private async run(agentId: string, epoch: Epoch, targets: ReadonlyArray<readonly string[]>): Promise<RecoveryOutcome> {
    const log = this.options.logger.child({ agentId })
    // SPEC §7: our latest signed checkpoint header and the agent key prove our stake to each peer.
    const stake = await this.options.runtime.authorityStake?.(agentId).catch(() => null) ?? null
    const replies: PeerReply[] = await Promise.all(targets.map(async (addresses) => await this.askPeer(addresses, agentId, epoch, stake)))
    const asked = replies.map((r) => r.address)
    const decision = decideRecovery(epoch, replies)
    if (decision.action === 'retire') {
      const status = await this.options.runtime.retireAt(agentId, epoch, decision.peerId, `peer ${decision.peerId} holds the agent at ${decision.epoch.toString()}`)
      log.warn({ epoch: epoch.toString(), peer: decision.address, peerEpoch: decision.epoch.toString() }, 'assisted recovery: a peer holds the agent at a higher epoch; stale copy retired here')
      return { agentId, decision, asked, status }
    }
    if (decision.action === 'recover') {
      const status = await this.options.runtime.recoverAt(agentId, epoch)
      log.warn({ from: epoch.toString(), epoch: status.epoch.toString(), asked }, 'assisted recovery: no peer holds the agent and every peer asked fenced it; recovered here')
      return { agentId, decision, asked, status }
    }
    log.info({ epoch: epoch.toString(), why: decision.why }, 'assisted recovery: no definite answer; agent stays RECOVERY_REQUIRED')
    return { agentId, decision, asked }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.pass().finally(() => this.schedule(this.options.retryMs ?? 1000))
    }, delayMs)
    this.timer.unref()
  }

  private async pass(): Promise<void> {
    const now = performance.now()
    const candidates = this.options.runtime.recoveryCandidates()
    const live = new Set(candidates.map((c) => c.agentId))
    for (const agentId of this.backoff.keys()) if (!live.has(agentId)) this.backoff.delete(agentId)
    await Promise.all(candidates.map(async (candidate) => {
      const key = candidate.epoch.toString()
      const due = this.backoff.get(candidate.agentId)
      if (due !== undefined && due.epoch === key && due.dueAt > now) return
      if (this.inFlight.has(candidate.agentId)) return
      this.inFlight.add(candidate.agentId)
      try {
        const outcome = await this.run(candidate.agentId, candidate.epoch, this.peersFor(candidate))
        if (outcome.decision.action === 'wait') {
          const base = this.options.retryMs ?? 1000
          const delayMs = due !== undefined && due.epoch === key ? Math.min(due.delayMs * 2, this.options.maxBackoffMs ?? 30_000) : base
          this.backoff.set(candidate.agentId, { epoch: key, delayMs, dueAt: performance.now() + delayMs })
        } else {
          this.backoff.delete(candidate.agentId)
        }
      } catch (error) {
        // The agent changed under us (recovered by hand, superseded, …): look again next pass.
        this.options.logger.child({ agentId: candidate.agentId }).info({}, `assisted recovery: nothing done (${describeCause(error)})`)
      } finally {
        this.inFlight.delete(candidate.agentId)
      }
    }))
  }
}
