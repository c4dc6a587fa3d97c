// SPEC §5 restart, §7 target, §11, §13: the options a node runtime is opened with and the shapes that
// cross between its parts — what the operator starts, what arrives by migration, and what an arrival
// found on disk so a failed one can put it back. Interfaces and defaults only, so every file of
// node/ can import them without importing each other.
import type { Epoch } from '@igor/epoch'
import type { AuthorityState, Clock, LeaseConfig } from '@igor/lease'
import type { AgentTiming, HandoffReplayData } from '../agent-host.js'
import type { CapabilityName, EgressPolicy, Logger, SandboxLimits } from '@igor/sandbox'
import type { AuthorityRecord, StoredModule } from '../store/index.js'
import type { ReplaySettings } from '@igor/replay'
import type { ReceiptSigner } from '../receipts/types.js'
import type { HistoryKeep } from '../lineage/history-retention.js'
import type { HistoryMinFree, StatfsProbe } from '../lineage/history-disk-guard.js'
import type { BudgetAdapter } from '../settlement/types.js'

export interface NodeRuntimeOptions {
  readonly dataDir: string
  /** null disables leases (CLI `--lease-duration 0`): ticks without a lease, epoch unchanged. */
  readonly lease: LeaseConfig | null
  /**
   * This node's price in microcents per second (SPEC §5 default 1000). A
   * durable price in the data dir (`NodeRuntime.setPrice`, SPEC §15) wins over
   * it unless `pricePerSecondExplicit` is true.
   */
  readonly pricePerSecond: bigint
  /**
   * True when `pricePerSecond` was given on purpose for this start (igord:
   * `--price-per-second` on the command line): it replaces the durable price
   * and becomes it. False or absent: it is only the default.
   */
  readonly pricePerSecondExplicit?: boolean
  readonly logger?: Logger
  readonly clock?: Clock
  readonly timing?: Partial<AgentTiming>
  readonly sandboxLimits?: Partial<SandboxLimits>
  /** Capabilities this node offers; an agent that declares another is refused. Default: all. */
  readonly capabilities?: readonly CapabilityName[]
  /**
   * SPEC §13: capabilities offered to agents arriving by migration (igord
   * `--capabilities …,http+arrivals`). Default: `capabilities` without `http`.
   */
  readonly arrivalCapabilities?: readonly CapabilityName[]
  /** SPEC §13 the node's egress policy (`--http-allow`/`--http-deny`). Default: the built-in denials only. */
  readonly egress?: EgressPolicy
  /** SPEC §13 `--http-rate`: requests per agent per second (default 20). */
  readonly httpRatePerSecond?: number
  /** Most agents this node holds at once (`--max-agents`); loads and admissions beyond it are refused (`NODE_FULL`). */
  readonly maxAgents?: number
  /**
   * Issue 11: agents per worker thread (default `DEFAULT_AGENTS_PER_WORKER`;
   * 1 = every agent has a thread of its own). Agents that declare `http` always
   * get their own: a request blocks its thread for up to 15 s.
   */
  readonly agentsPerWorker?: number
  /** SPEC §12 `--replay-mode`, `--verify-interval`, `--replay-on-divergence` (default full, 5, log). */
  readonly replay?: ReplaySettings
  /** SPEC §11 `--agent-disk-quota`: history and checkpoint per agent, in bytes (default 1 GiB). */
  readonly agentDiskQuotaBytes?: number
  /** SPEC §12 (ours) `--history-keep`: which whole history segments may go (default 7 days). */
  readonly historyKeep?: HistoryKeep
  /** SPEC §11 `--min-free-disk`: below this many free bytes in the data dir, arrivals are refused (`NODE_FULL`). */
  readonly minFreeDiskBytes?: number
  /**
   * SPEC §12 (ours) `--history-min-free`: below this much free space in the
   * data dir's filesystem, the oldest history segments across all agents are
   * pruned (never an agent's newest, never a checkpoint). Default `auto`:
   * max(4 × `minFreeDiskBytes`, 5 % of the filesystem).
   */
  readonly historyMinFree?: HistoryMinFree
  /** The free-space probe of that guard (tests, igord's test-only `IGOR_TEST_STATFS_FREE`); default `fs.statfs`. */
  readonly historyDiskStatfs?: StatfsProbe
  /** How often that guard probes (default 30 s; a segment roll also checks). */
  readonly historyDiskIntervalMs?: number
  /** SPEC §15: the node's libp2p Ed25519 key, which signs the agents' receipts; absent: no receipts. */
  readonly receiptSigner?: ReceiptSigner
  /** SPEC §15 `--receipt-span` in ns (default 1 h): an open receipt is sealed once open this long. */
  readonly receiptSpanNs?: bigint
  /**
   * Issue 21 `--receipts-write-every` in ns (default 60 s; 0n: every checkpoint): how long a periodic
   * checkpoint may leave an agent's receipts file behind its open receipt (`ReceiptBook`).
   */
  readonly receiptsWriteEveryNs?: bigint
  /**
   * SPEC §15 settlement: asked (from its cache) before each tick and told
   * after each receipt; default `none` (every budget valid, nothing recorded).
   */
  readonly budgetAdapter?: BudgetAdapter
}

/** Default `--min-free-disk` (SPEC §11 free-space floor). */
export const DEFAULT_MIN_FREE_DISK_BYTES = 256 * 1024 * 1024

export interface StartAgentOptions {
  readonly wasmPath: string
  readonly manifestPath?: string
  /** Defaults to the file name without `.wasm`. */
  readonly agentId?: string
  /** Initial budget in microcents; ignored when resuming from a checkpoint. */
  readonly budget: bigint
}

/** An agent that arrived by migration (SPEC §7 target), already decoded from the wire. */
export interface IncomingAgent {
  readonly agentId: string
  readonly wasm: Uint8Array
  readonly wasmHash: Uint8Array
  readonly checkpoint: Uint8Array
  readonly manifestData: Uint8Array
  /** The source's live epoch `(M,G)`; this node grants `(M+1,0)`. */
  readonly sourceEpoch: Epoch
  readonly sourceNodeId: string
  /** SPEC §12 `Package.ReplayData`: replayed before acceptance in modes on-migrate and full. */
  readonly replayData?: HandoffReplayData | null
  /** SPEC §12 `Package.AgentIdentity` (68 bytes); absent from a v0x03 sender. */
  readonly identity?: Uint8Array
  /** SPEC §15 `Package.Receipts` (the `receipts` blob); absent or empty: none. */
  readonly receipts?: Uint8Array
  /**
   * SHA-256 of `checkpoint`, when the caller hashed the bytes as they arrived (SPEC §7
   * `/igor/migrate/2.0.0`): the chain head is taken from it instead of a second pass.
   */
  readonly checkpointContentHash?: Uint8Array
  /** SPEC §15 `Package.Payments` (the `payments` blob); absent or empty: none. */
  readonly payments?: Uint8Array
}

/** What this node held for an agent before an arrival, so a failed arrival puts it back exactly (SPEC §7). */
export interface PriorFiles { authority: AuthorityRecord | null, checkpoint: Uint8Array | null, module: StoredModule | null, tombstone: boolean }

/** An agent found on disk that could not be loaded, with the reason (shown by `status`). */
export interface FailedLoad { state: AuthorityState, epoch: Epoch, reason: string }
