import type { AdmissionRefusal, AgentStatus } from '@igor/runner'

/** The control socket's file name inside the data directory (SPEC §6). */
export const CONTROL_SOCKET = 'igord.sock'

/** `sun_path` holds 108 bytes on Linux (104 on macOS and the BSDs), the terminating NUL included. */
const SUN_PATH_BYTES = process.platform === 'linux' ? 108 : 104

/**
 * The reason a socket path cannot be bound or reached, or null when it can.
 * A longer path is silently truncated by the kernel (it would bind a socket
 * outside the data directory), so it is refused first (issue 8, point 8).
 */
export function socketPathProblem(path: string): string | null {
  const bytes = Buffer.byteLength(path, 'utf8')
  if (bytes + 1 <= SUN_PATH_BYTES) return null
  return `control socket path ${path} is ${bytes} bytes, over the Unix limit of ${SUN_PATH_BYTES - 1}; use a shorter --data-dir`
}

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
  /** `refusedAtDoor` (SPEC §7, §11): peers and agent ids whose packages killed the node 3 times; omitted when none. */
  node: {
    peerId: string | null
    addresses: string[]
    /** SPEC §15: the node's price, microcents per second (decimal string, exact); null while the node starts. */
    pricePerSecond: string | null
    refusedAtDoor?: AdmissionRefusal[]
    /** SPEC §16: present while `igord drain` runs (arrivals are refused). */
    draining?: DrainStatusJson
    /**
     * SPEC §12 (ours, issue 21): present while free disk stays below
     * `--history-min-free` with every agent's history down to its newest
     * segment (bytes as decimal strings; `since`: ISO time).
     */
    diskShort?: { freeBytes: string, watermarkBytes: string, since: string }
  }
  agents: AgentStatusJson[]
}

export interface MigrateResultJson {
  agentId: string
  target: string
  majorVersion: string
  leaseGeneration: string
  /** Size of the package sent, and the hand-off's duration (issue 11: progress). */
  bytes?: number
  ms?: number
}

/** SPEC §16 `igord migrate <id> --to auto --json`: where the agent went, or why not, naming every target tried. */
export interface PlacementJson {
  agentId: string
  /** `placed`, `no-candidates`, `exhausted`, `ambiguous` (RECOVERY_REQUIRED; assisted recovery takes over) or `local`. */
  outcome: string
  /** The hand-off's result when placed, else null. */
  placed: MigrateResultJson | null
  tried: Array<{ peerId: string, price: string | null, outcome: string, attempts: Array<{ address: string, kind: string, code: string, message: string }> }>
  passedOver: Array<{ peerId: string, reason: string }>
  /** The summary line. */
  summary: string
}

/** `GET /migrations/<agentId>`: a hand-off under way on this node as the source. */
export interface MigrationProgressJson {
  agentId: string
  /** null until the package is encoded. */
  total: number | null
  sent: number
  ms: number
}

// SPEC §16 igord drain: POST /drain answers a DrainReportJson (and its progress lines); status shows DrainStatusJson.
/** An agent that left, and for which peer. */
export interface DrainMovedJson { agentId: string, to: string }
/** An agent that stayed here (checkpointed at the stop, restartable), and why. */
export interface DrainStayedJson { agentId: string, reason: string }

/** The drain's answer (`igord drain --json`, with `nodeStopped` added by the client). */
export interface DrainReportJson {
  /** `drained`: every agent moved; `stayed`: some are still here (listed). */
  outcome: 'drained' | 'stayed'
  to: string
  total: number
  moved: DrainMovedJson[]
  stayed: DrainStayedJson[]
  ms: number
}

/** `igord status`: a drain under way (or finished, while the node stops). */
export interface DrainStatusJson {
  to: string
  /** Unix ms when it began. */
  startedAt: number
  total: number
  moved: number
  stayed: number
  /** Not settled yet (being placed or waiting their turn). */
  pending: number
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
