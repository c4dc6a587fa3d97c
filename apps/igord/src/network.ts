import { type MigrateResult, MigrationService, type PlacementEvent, type PlacementNeeds, observeMigrations, placementSummary, progressLine } from '@igor/migration'
import type { Logger, NodeRuntime } from '@igor/runner'
import { agentStatusJson } from './control/protocol.js'
import type { AgentStatusJson, MigrateResultJson, MigrationProgressJson, PlacementJson } from './control/protocol.js'
import { migrationOutcome } from './metric-labels.js'
import { type PeerJson, peerJson } from './peers.js'
import type { MigrationOutcome } from './metric-labels.js'
import { listenFailure } from './listen-probe.js'

/** The daemon's view of its peer-to-peer side. */
export interface NodeNetwork {
  readonly peerId: string
  addresses(): string[]
  migrate(agentId: string, to: string): Promise<MigrateResultJson>
  /**
   * SPEC §16 `igord migrate <id> --to auto`: placement among the known peers; `onLine` gets each progress line.
   * `needs`: what the next node must satisfy (default: the agent's manifest; moving for price narrows it).
   * `deadline` (`performance.now()` ms, drain's `--timeout`): no attempt starts after it (the placement ends `local`, `DEADLINE_PASSED`).
   */
  place(agentId: string, onLine?: (line: string) => void, options?: { needs?: PlacementNeeds, deadline?: number }): Promise<PlacementJson>
  /** SPEC §16: runs `listener` after every price scan; returns the function that stops it. */
  onPriceScan(listener: () => void): () => void
  /** `igord recover <id> --ask …` (issue 12): the assisted-recovery query on demand. */
  recoverAsking(agentId: string, ask: readonly string[]): Promise<{ action: string, peerId?: string, agent: AgentStatusJson | null }>
  /** SPEC §16: the peer registry as `igord peers --json` shows it. */
  peers(): PeerJson[]
  /** The hand-off of `agentId` under way as the source, if any. */
  progress(agentId: string): MigrationProgressJson | null
  stop(): Promise<void>
}

/** `--to auto` could not start (the agent is not here). */
export class PlacementError extends Error {
  override readonly name = 'PlacementError'
  constructor(readonly code: string, message: string) { super(message) }
}

export { ListenError } from './listen-probe.js'

export interface NetworkOptions {
  runtime: NodeRuntime
  dataDir: string
  listen: string
  /** The address as the operator gave it, for the one-line reason (`listen` may carry the probe's port instead of 0). */
  listenShown?: string
  transferTimeoutMs: number
  maxTransferBytes?: number
  peerAdmissionsPerMinute?: number
  logger: Logger
  recovery?: 'manual' | 'assisted'
  peers?: readonly string[]
  mdns?: boolean
  /** SPEC §16 `--scan-interval`. */
  scanIntervalMs?: number
  /** Told the outcome and duration of every hand-off run as the source (metrics). */
  onMigrated?: (outcome: MigrationOutcome, ms: number) => void
}

export async function startNetwork(options: NetworkOptions): Promise<NodeNetwork> {
  let service: MigrationService
  try {
    service = await MigrationService.start({
      runtime: options.runtime,
      dataDir: options.dataDir,
      listen: [options.listen],
      logger: options.logger,
      transferTimeoutMs: options.transferTimeoutMs,
      ...(options.recovery !== undefined ? { recovery: options.recovery } : {}),
      ...(options.peers !== undefined ? { peers: options.peers } : {}),
      ...(options.mdns === true ? { mdns: true } : {}),
      ...(options.scanIntervalMs !== undefined ? { scanIntervalMs: options.scanIntervalMs } : {}),
      ...(options.maxTransferBytes !== undefined ? { maxTransferBytes: options.maxTransferBytes } : {}),
      ...(options.peerAdmissionsPerMinute !== undefined ? { inbound: { maxPerPeerPerMinute: options.peerAdmissionsPerMinute } } : {}),
      ...migrateProtocolsFromEnv(process.env)
    })
  } catch (error) {
    if ((error as { code?: string }).code === 'LISTEN_FAILED') throw listenFailure(options.listenShown ?? options.listen, error)
    throw error
  }
  // Hand-offs under way as the source, for `igord migrate`'s progress (GET /migrations/<agentId>).
  const inFlight = new Map<string, { startedAt: number, total: number | null, sent: number }>()
  const stopObserving = observeMigrations({
    onSendStart: (agentId, bytes) => { const m = inFlight.get(agentId); if (m !== undefined) m.total = bytes },
    onSendProgress: (agentId, sent) => { const m = inFlight.get(agentId); if (m !== undefined) m.sent = sent }
  })
  const log = options.logger
  const migrate = async (agentId: string, to: string): Promise<MigrateResultJson> => {
      const entry = { startedAt: performance.now(), total: null as number | null, sent: 0 }
      inFlight.set(agentId, entry)
      // The start is logged by @igor/migration ('hand-off: sending package', with bytes); the end, whatever it is, here.
      const ended = (outcome: MigrationOutcome): number => {
        inFlight.delete(agentId)
        const ms = Math.round(performance.now() - entry.startedAt)
        options.onMigrated?.(outcome, ms)
        const fields = { agentId, to, outcome, bytes: entry.total ?? 0, sent: entry.sent, ms }
        if (outcome === 'completed') log.info(fields, 'hand-off finished')
        else log.warn(fields, `hand-off finished: ${outcome}`)
        return ms
      }
      let result: MigrateResult
      try {
        result = await service.migrate(agentId, to)
      } catch (error) {
        ended(migrationOutcome(error))
        throw error
      }
      const ms = ended('completed')
      return {
        agentId: result.agentId,
        target: result.target,
        majorVersion: result.epoch.majorVersion.toString(),
        leaseGeneration: result.epoch.leaseGeneration.toString(),
        bytes: entry.total ?? 0,
        ms
      }
  }
  return {
    peerId: service.peerId,
    addresses: () => service.addresses(),
    migrate,
    onPriceScan: (listener) => service.onPriceScan(listener),
    place: async (agentId, onLine, placeOptions) => {
      // SPEC §16: what the agent's manifest asks of its next node (the runtime refuses an unknown agent on the first attempt).
      const manifest = options.runtime.host(agentId)?.module.manifest
      if (manifest === undefined) throw new PlacementError('AGENT_NOT_FOUND', `no agent ${JSON.stringify(agentId)} is running on this node`)
      const needs = placeOptions?.needs ?? { maxPricePerSecond: manifest.migration.maxPricePerSecond, capabilities: [...manifest.capabilities.keys()] }
      const onEvent = (event: PlacementEvent): void => {
        const line = progressLine(agentId, event)
        log.info({ agentId, event: event.type }, line)
        onLine?.(line)
      }
      const deadline = placeOptions?.deadline
      const attempt = deadline === undefined ? migrate : async (id: string, to: string): Promise<MigrateResultJson> => {
        // Not a MigrationError: placement classifies it `local` and stops, the agent untouched here.
        if (performance.now() >= deadline) throw new PlacementError('DEADLINE_PASSED', 'the time allowed (--timeout) passed before this attempt')
        return await migrate(id, to)
      }
      const report = await service.place(agentId, needs, { attempt, onEvent })
      const summary = placementSummary(report)
      log.info({ agentId, outcome: report.outcome }, summary)
      return {
        agentId,
        outcome: report.outcome,
        placed: report.placed,
        tried: report.tried.map((t) => ({ peerId: t.peerId, price: t.price, outcome: t.outcome, attempts: t.attempts.map((a) => ({ ...a })) })),
        passedOver: report.passedOver.map((p) => ({ ...p })),
        summary
      }
    },
    recoverAsking: async (agentId, ask) => {
      const outcome = await service.recoverAsking(agentId, ask.length > 0 ? ask : undefined)
      return {
        action: outcome.decision.action,
        ...(outcome.decision.action === 'retire' ? { peerId: outcome.decision.peerId } : {}),
        agent: outcome.status !== undefined ? agentStatusJson(outcome.status) : null
      }
    },
    peers: () => service.registry.list().map(peerJson),
    progress: (agentId) => {
      const entry = inFlight.get(agentId)
      if (entry === undefined) return null
      return { agentId, total: entry.total, sent: entry.sent, ms: Math.round(performance.now() - entry.startedAt) }
    },
    stop: async () => {
      stopObserving()
      await service.stop()
    }
  }
}

/**
 * SPEC §7: `IGORD_MIGRATE_PROTOCOLS` (tests and benchmarks only, like `IGORD_LOAD_CONCURRENCY`): the
 * hand-off versions offered and served, comma-separated (`2.0.0,1.0.0` by default; `1.0.0` plays a
 * reference node). Unset or empty: the default.
 */
export function migrateProtocolsFromEnv(env: NodeJS.ProcessEnv): { protocols?: string[] } {
  const text = env.IGORD_MIGRATE_PROTOCOLS?.trim() ?? ''
  if (text === '') return {}
  return { protocols: text.split(',').map((v) => `/igor/migrate/${v.trim()}`) }
}
