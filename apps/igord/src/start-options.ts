import type { LeaseConfig } from '@igor/lease'
import type { CapabilityName } from '@igor/sandbox'
import type { ReplaySettings } from '@igor/replay'
import type { LogLevel } from './flags.js'
import type { HistoryKeep, HistoryMinFree } from '@igor/runner'

export interface StartOptions {
  readonly kind: 'start'
  readonly agents: ReadonlyArray<{ wasmPath: string, manifestPath?: string, agentId?: string }>
  /** `--run-agents <dir>`: every `*.wasm` in these directories, with sidecar manifests. */
  readonly agentDirs: readonly string[]
  readonly budget: bigint
  /** null: leases disabled. */
  readonly lease: LeaseConfig | null
  readonly pricePerSecond: bigint
  /** True when `--price-per-second` was on the command line: it then replaces the durable price (SPEC §15). */
  readonly pricePerSecondExplicit?: boolean
  readonly dataDir: string
  readonly listen: string
  readonly capabilities: readonly CapabilityName[]
  /** SPEC §13: what agents arriving by migration may use (`http` only when written `http+arrivals`). */
  readonly arrivalCapabilities: readonly CapabilityName[]
  /** SPEC §13 `--http-allow` / `--http-deny` entries (CIDRs, addresses, host patterns), validated. */
  readonly httpAllow: readonly string[]
  readonly httpDeny: readonly string[]
  /** SPEC §13 `--http-rate`: requests per agent per second. */
  readonly httpRate: number
  readonly transferTimeoutMs: number
  /** SPEC §15 `--receipt-span`: an open receipt is sealed after this long. */
  readonly receiptSpanMs: number
  /** Issue 21 `--receipts-write-every`: a periodic checkpoint rewrites an agent's receipts file at most this often (0: each). */
  readonly receiptsWriteEveryMs: number
  /** SPEC §15 `--settlement-url` (checked), null: the `none` budget adapter. */
  readonly settlementUrl: string | null
  /** SPEC §16 `--scan-interval`: price scans of the known peers this often. */
  readonly scanIntervalMs: number
  readonly maxTransferBytes: number
  /** `--max-agents`: null for no limit. */
  readonly maxAgents: number | null
  /** SPEC §11 `--agent-disk-quota`: bytes of history and checkpoint per agent. */
  readonly agentDiskQuota: number
  /** SPEC §12 (ours, issue 21) `--history-keep`: whole history segments older than this go. */
  readonly historyKeep: HistoryKeep
  /** SPEC §11 `--min-free-disk`: arrivals are refused below this many free bytes (0: no floor). */
  readonly minFreeDisk: number
  /** SPEC §12 (ours, issue 21) `--history-min-free`: below it the oldest history across all agents is pruned. */
  readonly historyMinFree: HistoryMinFree
  /** `--agents-per-worker`: agents sharing one worker thread (issue 11). */
  readonly agentsPerWorker: number
  /** `--peer-admissions-per-minute`: hand-offs one peer may send per minute. */
  readonly peerAdmissionsPerMinute: number
  readonly logFormat: 'json' | 'pretty'
  readonly logLevel: LogLevel
  /** `--metrics-listen <host:port>`: null when off (the default). */
  readonly metricsListen: { host: string, port: number } | null
  /** `--recovery` (issue 12): resolve RECOVERY_REQUIRED through peers (`assisted`, default) or only by hand. */
  readonly recovery: 'manual' | 'assisted'
  /** `--peer <multiaddr>`: known peers asked before recovering an agent paused past its lease. */
  readonly peers: readonly string[]
  /** `--mdns` (SPEC §16): add peers found on the local network. */
  readonly mdns?: boolean
  /** SPEC §12 `--replay-mode`, `--verify-interval`, `--replay-on-divergence`. */
  readonly replay: ReplaySettings
  /** `igord resume` (SPEC §12): import this copied checkpoint (validated first) before the agent starts. */
  readonly resume?: { readonly checkpointPath: string, readonly identityPath?: string, readonly force?: boolean }
  /** `igord import <file>` standalone, or `igord resume <file>` of an export package (SPEC §12): admitted like a migration first. */
  readonly importPackage?: string
}
