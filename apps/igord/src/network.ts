import { MigrationService } from '@igor/migration'
import type { Logger, NodeRuntime } from '@igor/runner'
import type { MigrateResultJson } from './control/protocol.js'

/** The daemon's view of its peer-to-peer side. */
export interface NodeNetwork {
  readonly peerId: string
  addresses(): string[]
  migrate(agentId: string, to: string): Promise<MigrateResultJson>
  stop(): Promise<void>
}

export async function startNetwork(options: { runtime: NodeRuntime, dataDir: string, listen: string, transferTimeoutMs: number, maxTransferBytes?: number, peerAdmissionsPerMinute?: number, logger: Logger }): Promise<NodeNetwork> {
  const service = await MigrationService.start({
    runtime: options.runtime,
    dataDir: options.dataDir,
    listen: [options.listen],
    logger: options.logger,
    transferTimeoutMs: options.transferTimeoutMs,
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
    stop: async () => service.stop()
  }
}
