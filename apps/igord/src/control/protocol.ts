import type { AgentStatus } from '@igor/runner'

/** The control socket's file name inside the data directory (SPEC §6). */
export const CONTROL_SOCKET = 'igord.sock'

/** SPEC §6 `status --json` agent row: 64-bit values as decimal strings. */
export interface AgentStatusJson {
  agentId: string
  state: string
  majorVersion: string
  leaseGeneration: string
  leaseExpiry: string
  tickNumber: string
  budget: string
  pricePerSecond: string
  halted: string | null
  movedTo?: string
}

export interface StatusJson {
  node: { peerId: string | null, addresses: string[] }
  agents: AgentStatusJson[]
}

export interface MigrateResultJson {
  agentId: string
  target: string
  majorVersion: string
  leaseGeneration: string
}

/** A refused control request: the `code` is the typed error's code, `message` one line. */
export interface ControlErrorJson {
  error: { code: string, message: string }
}

export function agentStatusJson(status: AgentStatus): AgentStatusJson {
  return {
    agentId: status.agentId,
    state: status.state,
    majorVersion: status.epoch.majorVersion.toString(),
    leaseGeneration: status.epoch.leaseGeneration.toString(),
    leaseExpiry: status.leaseExpiry.toString(),
    tickNumber: status.tickNumber.toString(),
    budget: status.budget.toString(),
    pricePerSecond: status.pricePerSecond.toString(),
    halted: status.halted,
    ...(status.movedTo !== undefined ? { movedTo: status.movedTo } : {})
  }
}
