import type { Libp2p } from '@libp2p/interface'
import { type Logger, silentLogger } from '@igor/runner'
import { MigrationError } from './errors.js'
import { announceAddresses } from './net/addresses.js'
import { createIgorLibp2p } from './net/libp2p-node.js'
import { loadOrCreateNodeKey } from './net/node-key.js'
import type { HandoffRuntime } from './handoff/runtime.js'
import { migrateAgent } from './handoff/source.js'
import type { MigrateResult } from './handoff/source.js'
import { createMigrateHandler } from './handoff/target.js'
import { DEFAULT_INBOUND_LIMITS, InboundGate } from './handoff/inbound-limits.js'
import type { InboundLimits } from './handoff/inbound-limits.js'
import { MIGRATE_PROTOCOL_V2 } from './wire/types.js'
import { MIGRATE_PROTOCOLS } from './handoff/source.js'
import { createAuthorityHandler } from './authority/handler.js'
import { feedRegistry } from './peers/feed.js'
import { PeerRegistry } from './peers/registry.js'
import { splitPeerAddress } from './peers/file.js'
import { AssistedRecovery } from './authority/recovery.js'
import type { RecoveryMode, RecoveryOutcome } from './authority/recovery.js'
import { isAuthorityRuntime } from './authority/runtime.js'
import { AUTHORITY_PROTOCOL } from './authority/wire.js'
import { createPriceHandler } from './price/handler.js'
import { isPriceRuntime } from './price/runtime.js'
import { PRICE_PROTOCOL } from './price/wire.js'
import type { PriceRateLimits } from './price/rate-limit.js'
import { PriceScanner, DEFAULT_SCAN_INTERVAL_MS } from './placement/scan.js'
import { placeAgent } from './placement/place.js'
import type { PlacementEvent, PlacementReport } from './placement/place.js'
import type { PlacementNeeds } from './placement/candidates.js'

export interface MigrationServiceOptions {
  readonly runtime: HandoffRuntime
  /** Holds the node key (`node.key`, 0600) so the peer id is stable across restarts. */
  readonly dataDir: string
  readonly listen: readonly string[]
  readonly logger?: Logger
  /** Time allowed for one transfer to arrive, and for its reply (default 30 s). */
  readonly transferTimeoutMs?: number
  /** Largest transfer a target accepts (default 192 MiB: a 64 MiB state and binary, base64). */
  readonly maxTransferBytes?: number
  readonly dialTimeoutMs?: number
  /** Node-wide caps on inbound hand-offs (default `DEFAULT_INBOUND_LIMITS`). */
  readonly inbound?: Partial<InboundLimits>
  /** Issue 12 item 4: `assisted` (default) resolves RECOVERY_REQUIRED through `/igor/authority/1.0.0`; `manual` waits for an operator. */
  readonly recovery?: RecoveryMode
  /** `--peer` addresses (SPEC §16): always in the peer registry; asked about an agent paused past its lease. */
  readonly peers?: readonly string[]
  /** SPEC §16 `--mdns`: add peers discovered on the local network. */
  readonly mdns?: boolean
  /** First retry of an unanswered recovery query (default 1 s; doubles up to 30 s). */
  readonly recoveryRetryMs?: number
  /** SPEC §15 `/igor/price/1.0.0` rates (default `DEFAULT_PRICE_RATE_LIMITS`: 60 answers a minute per peer). */
  readonly priceRateLimits?: Partial<PriceRateLimits>
  /** SPEC §16 `--scan-interval`: a price scan of every known peer this often (default 60 s; 0: only before placements). */
  readonly scanIntervalMs?: number
  /** Per-peer time of a price scan question (default 5 s). */
  readonly scanTimeoutMs?: number
  /**
   * SPEC §7 hand-off versions this node offers as a source (in this order) and serves as a target
   * (default `MIGRATE_PROTOCOLS`: `/igor/migrate/2.0.0`, then `/igor/migrate/1.0.0`). Tests narrow it
   * to play a node that speaks one version only.
   */
  readonly protocols?: readonly string[]
}

/** How `MigrationService.place` makes one attempt (the node wraps `migrate` with its metrics); default `migrate`. */
export type PlacementAttempt<R> = (agentId: string, address: string) => Promise<R>

export const DEFAULT_TRANSFER_TIMEOUT_MS = 30_000
export const DEFAULT_MAX_TRANSFER_BYTES = 192 * 1024 * 1024

/**
 * The node's peer-to-peer side (SPEC §6, §7): a libp2p node with a persistent
 * identity that serves `/igor/migrate/1.0.0` as a target and migrates this
 * node's agents to others as a source.
 */
export class MigrationService {
  private constructor(
    private readonly node: Libp2p,
    private readonly options: MigrationServiceOptions,
    private readonly log: Logger,
    private readonly peers: PeerRegistry,
    private readonly recovery: AssistedRecovery | null,
    private readonly unfeed: () => void,
    private readonly scanner: PriceScanner
  ) {}

  static async start(options: MigrationServiceOptions): Promise<MigrationService> {
    const log = options.logger ?? silentLogger
    const privateKey = await loadOrCreateNodeKey(options.dataDir, {
      onEvent: (event) => log.info({ ...event }, 'node key')
    })
    // SPEC §16: the registry is read (and `--peer` checked) before anything listens.
    const peers = await PeerRegistry.open(options.dataDir, { configured: options.peers ?? [], logger: log })
    const node = await createIgorLibp2p({
      privateKey,
      listen: options.listen,
      mdns: options.mdns === true,
      ...(options.dialTimeoutMs !== undefined ? { dialTimeoutMs: options.dialTimeoutMs } : {})
    })
    // SPEC §7: both versions served, one gate (the node-wide inbound caps) across them.
    const gate = new InboundGate({ ...DEFAULT_INBOUND_LIMITS, ...options.inbound })
    for (const protocol of migrateProtocols(options.protocols)) {
      await node.handle(protocol, createMigrateHandler({
        runtime: options.runtime,
        logger: log,
        nodeId: node.peerId.toString(),
        maxTransferBytes: options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES,
        transferTimeoutMs: options.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS,
        gate,
        binary: protocol === MIGRATE_PROTOCOL_V2,
        // SPEC §16: a source whose package was admitted is a peer (its addresses: what identify saw, else the peer store's).
        onArrival: (peerId) => { void rememberArrival(node, peers, peerId) }
      }), { maxInboundStreams: 8, maxOutboundStreams: 8 })
    }
    // SPEC §15: the price protocol, registered beside the authority protocol; answered from memory only.
    if (isPriceRuntime(options.runtime)) {
      await node.handle(PRICE_PROTOCOL, createPriceHandler({
        runtime: options.runtime,
        logger: log,
        nodeId: node.peerId.toString(),
        ...(options.priceRateLimits !== undefined ? { rateLimits: options.priceRateLimits } : {})
      }), { maxInboundStreams: 16, maxOutboundStreams: 16 })
    }
    let recovery: AssistedRecovery | null = null
    if (isAuthorityRuntime(options.runtime)) {
      const runtime = options.runtime
      await node.handle(AUTHORITY_PROTOCOL, createAuthorityHandler({ runtime, logger: log, nodeId: node.peerId.toString() }), { maxInboundStreams: 16, maxOutboundStreams: 16 })
      recovery = new AssistedRecovery({
        node,
        runtime,
        peers,
        logger: log,
        mode: options.recovery ?? 'assisted',
        ...(options.recoveryRetryMs !== undefined ? { retryMs: options.recoveryRetryMs } : {})
      })
      recovery.start()
    }
    const unfeed = feedRegistry(node, peers, log)
    // SPEC §16: price scans on a timer and before every placement.
    const scanner = new PriceScanner({ node, registry: peers, logger: log, ...(options.scanTimeoutMs !== undefined ? { timeoutMs: options.scanTimeoutMs } : {}) })
    scanner.start(options.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS)
    return new MigrationService(node, options, log, peers, recovery, unfeed, scanner)
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /** Full `/ip4/…/tcp/…/p2p/<peerId>` addresses. */
  addresses(): string[] {
    return announceAddresses(this.node)
  }

  /** Hands `agentId` to the node at `to` (a multiaddr ending in `/p2p/<peerId>`). */
  async migrate(agentId: string, to: string): Promise<MigrateResult> {
    const target = splitPeerAddress(to)
    if (target !== null && target.peerId !== this.peerId) this.peers.remember(target.peerId, [to])
    try {
      const result = await this.hand(agentId, to)
      if (target !== null) this.recordOutcome(target.peerId, to, null)
      return result
    } catch (error) {
      if (target !== null && target.peerId !== this.peerId) this.recordOutcome(target.peerId, to, error)
      throw error
    }
  }

  /** SPEC §16 "Moving for price": `listener` runs after every price scan (timer or placement); returns the function that removes it. */
  onPriceScan(listener: () => void): () => void {
    return this.scanner.onScanned(() => { listener() })
  }

  /** SPEC §16: a price scan now (joins one under way). */
  async scanPrices(): Promise<void> {
    await this.scanner.scan()
  }

  /**
   * SPEC §16 `igord migrate <id> --to auto`: a price scan, then the candidates
   * for `needs` in order, each tried up to 3 times (see `placeAgent`).
   * `attempt` defaults to `migrate`; the node passes its own wrapper of it.
   */
  async place<R = MigrateResult>(agentId: string, needs: PlacementNeeds, options: { attempt?: PlacementAttempt<R>, onEvent?: (event: PlacementEvent) => void } = {}): Promise<PlacementReport<R>> {
    const attempt = options.attempt ?? (async (id: string, address: string) => await this.migrate(id, address) as R)
    const report = await placeAgent<R>({
      selfPeerId: this.peerId,
      scan: async () => await this.scanner.scan(),
      peers: () => this.peers.list(),
      attempt: async (_peerId, address) => await attempt(agentId, address),
      ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {})
    }, agentId, needs)
    this.log.info({ agentId, outcome: report.outcome, tried: report.tried.map((t) => ({ peer: t.peerId, outcome: t.outcome })) }, 'placement finished')
    return report
  }

  /** SPEC §16: the known peers (`igord peers`). */
  get registry(): PeerRegistry {
    return this.peers
  }

  /** A refusal or an unknown outcome still means the peer answered or took the package: only no answer at all is a failure. */
  private recordOutcome(peerId: string, address: string, error: unknown): void {
    this.scanner.handoffRecorded(peerId)
    const code = (error as { code?: string } | null)?.code
    if (error === null || code === 'REJECTED' || code === 'OUTCOME_UNKNOWN') {
      this.peers.recordAnswer(peerId, address)
      if (error === null) this.peers.recordSuccess(peerId)
    }
    if (error !== null) this.peers.recordFailure(peerId)
  }

  private async hand(agentId: string, to: string): Promise<MigrateResult> {
    return await migrateAgent({
      node: this.node,
      runtime: this.options.runtime,
      logger: this.log,
      transferTimeoutMs: this.options.transferTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS,
      protocols: migrateProtocols(this.options.protocols),
      ...(this.options.dialTimeoutMs !== undefined ? { dialTimeoutMs: this.options.dialTimeoutMs } : {})
    }, agentId, to)
  }

  /**
   * `igord recover <id> --ask <multiaddr>…`: the assisted-recovery query on
   * demand (any mode). Asks `ask` (default: the recorded peer, else every known
   * peer) and retires, recovers, or refuses with `NO_DEFINITE_ANSWER`.
   */
  async recoverAsking(agentId: string, ask?: readonly string[]): Promise<RecoveryOutcome> {
    if (this.recovery === null) throw new MigrationError('NO_DEFINITE_ANSWER', 'this node\'s runtime cannot answer authority queries')
    const outcome = await this.recovery.resolve(agentId, ask)
    if (outcome.decision.action === 'wait') {
      throw new MigrationError('NO_DEFINITE_ANSWER', `no definite answer for ${agentId} (${outcome.decision.why}); it stays RECOVERY_REQUIRED`)
    }
    return outcome
  }

  async stop(): Promise<void> {
    this.recovery?.stop()
    this.scanner.stop()
    this.unfeed()
    await this.node.stop()
    await this.peers.flush()
  }
}

async function rememberArrival(node: Libp2p, peers: PeerRegistry, peerId: string): Promise<void> {
  let addrs: string[] = []
  try {
    const { peerIdFromString } = await import('@libp2p/peer-id')
    const stored = await node.peerStore.get(peerIdFromString(peerId))
    addrs = stored.addresses.map((a) => a.multiaddr.toString()).filter((a) => a.includes('/tcp/'))
  } catch {
    // not in the peer store yet: identify will add the addresses (the peer is known from now on)
  }
  peers.recordContact(peerId, addrs)
  peers.recordSuccess(peerId)
}

/** The hand-off versions to offer and serve: known ids only, at least one. */
function migrateProtocols(chosen: readonly string[] | undefined): readonly string[] {
  if (chosen === undefined) return MIGRATE_PROTOCOLS
  if (chosen.length === 0) throw new RangeError('protocols: at least one hand-off version is needed')
  for (const id of chosen) {
    if (!MIGRATE_PROTOCOLS.includes(id)) throw new RangeError(`protocols: unknown hand-off version ${JSON.stringify(id)} (known: ${MIGRATE_PROTOCOLS.join(', ')})`)
  }
  return chosen
}
