import { MigrationService } from '@igor/migration'
import type { Logger, NodeRuntime } from '@igor/runner'
import { agentStatusJson } from './control/protocol.js'
import type { AgentStatusJson, MigrateResultJson } from './control/protocol.js'

/** The daemon's view of its peer-to-peer side. */
export interface NodeNetwork {
  readonly peerId: string
  addresses(): string[]
  migrate(agentId: string, to: string): Promise<MigrateResultJson>
  /** `igord recover <id> --ask …` (issue 12): the assisted-recovery query on demand. */
  recoverAsking(agentId: string, ask: readonly string[]): Promise<{ action: string, peerId?: string, agent: AgentStatusJson | null }>
  stop(): Promise<void>
}

export async function startNetwork(options: { runtime: NodeRuntime, dataDir: string, listen: string, transferTimeoutMs: number, maxTransferBytes?: number, peerAdmissionsPerMinute?: number, logger: Logger, recovery?: 'manual' | 'assisted', peers?: readonly string[] }): Promise<NodeNetwork> {
  const service = await MigrationService.start({
    runtime: options.runtime,
    dataDir: options.dataDir,
    listen: [options.listen],
    logger: options.logger,
    transferTimeoutMs: options.transferTimeoutMs,
    ...(options.recovery !== undefined ? { recovery: options.recovery } : {}),
    ...(options.peers !== undefined ? { peers: options.peers } : {}),
    ...(options.maxTransferBytes !== undefined ? { maxTransferBytes: options.maxTransferBytes } : {}),
    ...(options.peerAdmissionsPerMinute !== undefined ? { inbound: { maxPerPeerPerMinute: options.peerAdmissionsPerMinute } } : {})
  })
  return {
    peerId: service.peerId,
    addresses: () => service.addresses(),
    migrate: async (agentId, to) => {
      const result = await service.migrate(agentId, to)
      return {
        agentId: result.agentId,
        target: result.target,
        majorVersion: result.epoch.majorVersion.toString(),
        leaseGeneration: result.epoch.leaseGeneration.toString()
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
    stop: async () => service.stop()
  }
}
