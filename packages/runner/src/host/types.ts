// SPEC §5 tick schedule, §6 status, §7 package: the shapes an agent host is built from and hands out —
// its timing, the status row, the module kept for a hand-off, what it is started with, and the hand-off
// snapshot (with SPEC §12 ReplayData). Interfaces and defaults only; `agent-host.ts` re-exports them.
import type { Epoch } from '@igor/epoch'
import type { AuthorityState, Lease } from '@igor/lease'
import type { AgentSandbox, EgressPolicy, Logger, Manifest, ObservationEntry, PreparedAgent, SandboxLimits } from '@igor/sandbox'
import type { ReplaySettings } from '@igor/replay'
import type { CheckpointStore } from '../store/index.js'
import type { AgentLineage } from '../lineage/agent-lineage.js'
import type { ReceiptBook } from '../receipts/book.js'
import type { PaymentLog } from '../payments/log.js'
import type { BudgetAdapter } from '../settlement/types.js'

/** SPEC §5 tick schedule and checkpoint cadence. */
export interface AgentTiming {
  readonly tickIntervalMs: number
  readonly busyIntervalMs: number
  readonly checkpointIntervalMs: number
}

export const DEFAULT_TIMING: AgentTiming = { tickIntervalMs: 1000, busyIntervalMs: 10, checkpointIntervalMs: 5000 }

/** One row of `igord status` (SPEC §6). */
export interface AgentStatus {
  readonly agentId: string
  readonly state: AuthorityState
  readonly epoch: Epoch
  readonly leaseExpiry: bigint
  readonly tickNumber: bigint
  readonly budget: bigint
  readonly pricePerSecond: bigint
  /** null while the agent may tick, else a short reason. */
  readonly halted: string | null
  /** For retired agents: where the agent went. */
  readonly movedTo?: string
}

/** The code and its identity, kept so the agent can be handed on (SPEC §7 package). */
export interface AgentModule {
  readonly prepared: PreparedAgent
  readonly wasm: Uint8Array
  readonly manifest: Manifest
}

export interface AgentHostInit {
  readonly agentId: string
  readonly module: AgentModule
  readonly sandbox: AgentSandbox
  readonly lease: Lease
  readonly budget: bigint
  /** The price charged when `price` is absent (a host outside a node runtime: tests, tools). */
  readonly pricePerSecond: bigint
  /** SPEC §15: the node's price holder; its `value` at each charge is the price (`igord price set` applies from the next tick). */
  readonly price?: { readonly value: bigint }
  readonly tickNumber: bigint
  readonly store: CheckpointStore
  readonly logger: Logger
  readonly timing: AgentTiming
  /** Wall-clock Unix ns, for authority records and tombstones. */
  readonly nowNs: () => bigint
  /** True when the starting checkpoint was already written (the periodic one counts from now). */
  readonly checkpointed?: boolean
  /** The other node of an interrupted hand-off (from the authority record), kept for recovery. */
  readonly peer?: string
  /** SPEC §12: the agent's identity and chain; every checkpoint is then a signed v0x04. Without it, v0x03. */
  readonly lineage?: AgentLineage
  /** SPEC §12 self-verification; absent or mode off/on-migrate: none. */
  readonly replay?: ReplaySettings
  /** Limits for the replay sandboxes (the same as the live one's). */
  readonly sandboxLimits?: Partial<SandboxLimits>
  /**
   * Issue 11: starts a new sandbox for this agent from a state, when a shared
   * worker was stopped for another agent's fault (`solo`: a worker of its
   * own). Without it an evicted agent halts.
   */
  readonly restartSandbox?: (state: Uint8Array | null, budget: bigint, solo: boolean) => Promise<AgentSandbox>
  /**
   * Issue 11: the sandbox is a worker of its own for probation (an arrival
   * from a peer, so a package whose start loops evicts nobody); at its first
   * periodic checkpoint here the agent moves to a shared worker.
   */
  readonly probation?: boolean
  /** SPEC §13 the node's egress policy and `--http-rate`; absent: only the agent's allow-list applies. */
  readonly egress?: { readonly policy: EgressPolicy, readonly ratePerSecond: number }
  /** SPEC §15: the stay's receipts, re-signed after each checkpoint; absent: no receipts (no node key). */
  readonly receipts?: ReceiptBook
  /** SPEC §15 wallet_pay: the agent's payments log; absent: a log that is never written (tests). */
  readonly payments?: PaymentLog
  /** SPEC §15 settlement: its cached verdict gates each tick; absent: every budget is valid. */
  readonly budgetAdapter?: BudgetAdapter
}

/** SPEC §12 `Package.ReplayData`: the last tick, when it produced exactly the state in the package. */
export interface HandoffReplayData {
  readonly preTickState: Uint8Array
  readonly tickNumber: bigint
  readonly entries: readonly ObservationEntry[]
}

/** What the source of a hand-off sends: built from the live instance, never from a file (SPEC §7 source 2). */
/** An agent's SPEC §15 files read together under its mutex (`AgentHost.receiptsSnapshot`); null: no such file. */
export interface ReceiptsSnapshot {
  /** The receipts file was behind its open receipt and was written first. */
  readonly written: boolean
  readonly receipts: Uint8Array | null
  readonly checkpoint: Uint8Array | null
  readonly payments: Uint8Array | null
}

export interface HandoffSnapshot {
  readonly agentId: string
  readonly module: AgentModule
  /** Encoded v0x03 checkpoint at the live epoch. */
  readonly checkpoint: Uint8Array
  /**
   * The same checkpoint being written to this node's disk. The write runs
   * while the package travels: HANDOFF_INITIATED is already durable, so a
   * crash in between comes back as RECOVERY_REQUIRED either way.
   */
  readonly persisted: Promise<void>
  readonly epoch: Epoch
  readonly budget: bigint
  readonly pricePerSecond: bigint
  readonly tickNumber: bigint
  /** Null when the last tick cannot be replayed from this package (see `HandoffReplayData`). */
  readonly replayData: HandoffReplayData | null
  /** SPEC §12: the 68-byte identity file, sent as `Package.AgentIdentity`; absent for an agent without one. */
  readonly identity?: Uint8Array
  /** SPEC §15 `Package.Receipts`: the agent's receipts, the stay here sealed at this checkpoint; absent without a node key. */
  readonly receipts?: Uint8Array
  /** SPEC §15 `Package.Payments`: every `wallet_pay` receipt of the agent (a `payments` blob); absent when it never paid. */
  readonly payments?: Uint8Array
}
