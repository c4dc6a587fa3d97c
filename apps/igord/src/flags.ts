// The flags igord knows and how their values are read (SPEC §9, §14): no subcommand logic here, so
// subcommand modules (simulate, export, import) can use them without importing args.ts back.
import { readFileSync } from 'node:fs'
import { validateAgentId } from '@igor/runner'
import { CAPABILITIES, type CapabilityName, DEFAULT_AGENTS_PER_WORKER, DEFAULT_HTTP_RATE, EgressPolicy, splitRules, unitsToMicrocents } from '@igor/sandbox'
import { parseDuration } from './duration.js'

/** A bad command line: printed as one line, exit code 2, nothing started (SPEC §10, §14). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  /** The subcommand whose `--help` the message points to (null: top level). */
  constructor(message: string, readonly subcommand: string | null = null) {
    super(message)
  }
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
export type LogLevel = typeof LOG_LEVELS[number]


export interface FlagSpec {
  readonly type: 'string' | 'boolean'
  readonly multiple?: boolean
  readonly short?: string
  /** Placeholder of the value in help text, e.g. `<dur>`. */
  readonly value?: string
  /** Default as shown in help text. */
  readonly default?: string
  readonly help: string
}

export const I64_MAX = (1n << 63n) - 1n
export const DEFAULT_DATA_DIR = './igor-data'
export const DEFAULT_CLIENT_TIMEOUT_MS = 5000

/** Every flag igord knows, once. */
export const FLAGS = {
  help: { type: 'boolean', short: 'h', help: 'show help (exit 0)' },
  version: { type: 'boolean', help: 'print the version (exit 0)' },
  'log-level': { type: 'string', value: '<level>', default: 'info', help: `${LOG_LEVELS.join('|')}; or IGOR_LOG_LEVEL` },
  'data-dir': { type: 'string', value: '<dir>', default: DEFAULT_DATA_DIR, help: 'checkpoints, node key, control socket' },
  timeout: { type: 'string', value: '<dur>', default: '5s', help: 'how long to wait for the node to answer' },
  json: { type: 'boolean', help: 'print JSON' },
  'with-history': { type: 'boolean', help: 'export: the file carries the agent\'s retained history (SPEC §12), restored by import' },
  to: { type: 'string', value: '<multiaddr>', help: 'the target node, e.g. /ip4/10.0.0.2/tcp/4001/p2p/12D3Koo…, or auto (the node chooses, SPEC §16)' },
  'run-agent': { type: 'string', multiple: true, value: '<wasm>', help: 'load (or resume) and run this agent; repeatable' },
  'run-agents': { type: 'string', multiple: true, value: '<dir>', help: 'run every *.wasm in this directory (sidecar manifests); repeatable' },
  budget: { type: 'string', value: '<units>', default: '1.0', help: 'initial budget in currency units (ignored when resuming)' },
  manifest: { type: 'string', value: '<path>', default: '<agent>.manifest.json', help: 'capability manifest (single agent only)' },
  'agent-id': { type: 'string', value: '<id>', default: 'file name', help: 'the agent\'s id (single agent only)' },
  'lease-duration': { type: 'string', value: '<dur>', default: '60s', help: 'lease length; 0 disables leases' },
  'lease-grace': { type: 'string', value: '<dur>', default: '10s', help: 'grace after expiry' },
  'lease-renewal-window': { type: 'string', value: '<f>', default: '0.5', help: 'renew when this fraction is left, in (0,1)' },
  'price-per-second': { type: 'string', value: '<microcents>', default: '1000', help: 'this node\'s price' },
  listen: { type: 'string', value: '<multiaddr>', default: '/ip4/127.0.0.1/tcp/4001', help: 'libp2p listen address (this machine only by default; /ip4/0.0.0.0/tcp/4001 opens it to the network)' },
  capabilities: { type: 'string', value: '<list>', default: CAPABILITIES.join(','), help: 'capabilities this node offers; http reaches agents arriving by migration only as http+arrivals' },
  'http-allow': { type: 'string', multiple: true, value: '<cidr|host>', help: 'let agents\' http reach these (10.0.0.0/8, 127.0.0.1, *.corp.test); comma lists; repeatable' },
  'http-deny': { type: 'string', multiple: true, value: '<cidr|host>', help: 'never let agents\' http reach these (wins over --http-allow); comma lists; repeatable' },
  'http-rate': { type: 'string', value: '<n>', default: String(DEFAULT_HTTP_RATE), help: 'http requests per agent per second (over it: -4, nothing sent)' },
  'transfer-timeout': { type: 'string', value: '<dur>', default: '30s', help: 'limit for one migration transfer' },
  'settlement-url': { type: 'string', value: '<http(s) url>', default: 'none', help: 'POST sealed receipts to <url>/receipts (durable outbox, retried) and ask GET <url>/budget/<agentId> before ticks; 402/403 pauses the agent (SPEC §15)' },
  concurrency: { type: 'string', value: '<n>', default: '4', help: 'agents placed at once (igord drain, 1..64)' },
  'scan-interval': { type: 'string', value: '<dur>', default: '60s', help: 'ask every known peer its price this often (SPEC §16)' },
  'receipt-span': { type: 'string', value: '<dur>', default: '1h', help: 'seal an agent\'s open receipt after this long (SPEC §15)' },
  'receipts-write-every': { type: 'string', value: '<dur>', default: '60s', help: 'rewrite an agent\'s receipts file at most this often at periodic checkpoints; a restart repairs it from the checkpoint (0: every checkpoint)' },
  'max-transfer-bytes': { type: 'string', value: '<n>', default: String(192 * 1024 * 1024), help: 'largest migration transfer accepted' },
  'max-agents': { type: 'string', value: '<n>', default: 'no limit', help: 'refuse loads and arrivals beyond this many agents' },
  'agent-disk-quota': { type: 'string', value: '<size>', default: '1GiB', help: 'history and checkpoint per agent; over it the oldest history goes first' },
  'history-keep': { type: 'string', value: '<all|dur|n>', default: '7d', help: 'history kept per agent: all, a duration (7d, 36h) or the newest n checkpoints; older whole segments go, the oldest kept is the anchor' },
  'min-free-disk': { type: 'string', value: '<size>', default: '256MiB', help: 'refuse arrivals (NODE_FULL) when the data dir has less free; 0 for no floor' },
  'history-min-free': { type: 'string', value: '<size|n%|auto|off>', default: 'auto', help: 'below this much free disk, prune the oldest history segments across all agents (never the newest, never a checkpoint); auto = max(4 × --min-free-disk, 5% of the filesystem)' },
  'agents-per-worker': { type: 'string', value: '<n>', default: String(DEFAULT_AGENTS_PER_WORKER), help: 'agents sharing one worker thread (1..256; 1 = a thread each; http agents always get their own)' },
  'peer-admissions-per-minute': { type: 'string', value: '<n>', default: '30', help: 'hand-offs one peer may send per minute' },
  'metrics-listen': { type: 'string', value: '<host:port>', default: 'off', help: 'also serve /metrics and /healthz over TCP here' },
  'log-format': { type: 'string', value: '<json|pretty>', default: 'json', help: 'log format' },
  recovery: { type: 'string', value: '<manual|assisted>', default: 'assisted', help: 'resolve RECOVERY_REQUIRED by asking peers (/igor/authority/1.0.0) or only by hand' },
  peer: { type: 'string', multiple: true, value: '<multiaddr>', help: 'a known peer (/…/p2p/<peerId>), kept in the peer registry and asked before recovering an agent; repeatable' },
  mdns: { type: 'boolean', help: 'add peers found on the local network with libp2p mDNS (SPEC §16)' },
  ask: { type: 'string', multiple: true, value: '<multiaddr>', help: 'ask this peer what it holds first (assisted recovery on demand); repeatable' },
  'inspect-checkpoint': { type: 'string', value: '<file>', help: 'print a checkpoint report and exit (same as igor-inspect)' },
  'inspect-wasm': { type: 'string', value: '<file>', help: 'with --inspect-checkpoint: check the agent binary\'s hash' },
  'replay-mode': { type: 'string', value: '<off|periodic|on-migrate|full>', default: 'full', help: 'replay verification: periodic = own ticks, on-migrate = arriving agents (SPEC §12)' },
  'verify-interval': { type: 'string', value: '<ticks>', default: '5', help: 'replay every Nth tick that made observations' },
  'replay-on-divergence': { type: 'string', value: '<log|pause|intensify>', default: 'log', help: 'what a failed self-verification does' },
  ticks: { type: 'string', value: '<n>', default: '100', help: 'ticks to run back to back; 0 = until the budget is exhausted' },
  verify: { type: 'boolean', help: 'replay every tick in a fresh sandbox and compare the state' },
  deterministic: { type: 'boolean', help: 'clock_now from 1s plus 1s per call, rand_bytes from Go\'s PCG(seed, seed)' },
  seed: { type: 'string', value: '<n>', default: '0', help: 'the PCG seed for --deterministic' },
  // SPEC §12: igord resume / inspect (the reference's flag names).
  wasm: { type: 'string', value: '<wasm>', help: 'the agent binary (resume: required; inspect: check its hash)' },
  checkpoint: { type: 'string', value: '<file>', help: 'the checkpoint to resume (or give it as the argument)' },
  identity: { type: 'string', value: '<file>', default: '<data-dir>/checkpoints/<agentId>.identity', help: 'the agent\'s 68-byte identity file' },
  // SPEC §12 "Moving an agent without the network".
  out: { type: 'string', value: '<file>', help: 'where to write the export package (never overwritten)' },
  force: { type: 'boolean', help: 'resume a raw checkpoint whose node is gone for good (known peers are asked first)' }
} as const satisfies Record<string, FlagSpec>

export type FlagName = keyof typeof FLAGS

/** Flags every subcommand takes. */
export const COMMON_FLAGS: readonly FlagName[] = ['help', 'version', 'log-level']

/** What a subcommand's `parse` gets: typed access to its flags and positionals. */
export class ParsedArgs {
  constructor(
    /** The subcommand named on the command line (null: implicit start), for help pointers. */
    readonly subcommand: string | null,
    private readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>,
    readonly positionals: readonly string[]
  ) {}

  string(name: FlagName): string | undefined {
    const value = this.values[name]
    return typeof value === 'string' ? value : undefined
  }

  strings(name: FlagName): string[] {
    const value = this.values[name]
    return Array.isArray(value) ? value : []
  }

  boolean(name: FlagName): boolean {
    return this.values[name] === true
  }

  /** The same command line without one flag (a subcommand that hands the rest to another's parser). */
  without(name: FlagName): ParsedArgs {
    return new ParsedArgs(this.subcommand, { ...this.values, [name]: undefined }, this.positionals)
  }

  /** Reads a flag's value with `read`; its error becomes `--<name>: <message>`. */
  read<T>(name: FlagName, fallback: T, read: (text: string) => T): T {
    const text = this.string(name)
    if (text === undefined) return fallback
    try {
      return read(text)
    } catch (error) {
      throw new UsageError(`--${name}: ${(error as Error).message}`, this.subcommand)
    }
  }

  duration(name: FlagName, fallbackMs: number): number {
    return this.read(name, fallbackMs, parseDuration)
  }

  usage(message: string): UsageError {
    return new UsageError(message, this.subcommand)
  }
}

let cachedVersion: string | undefined
/** `igord 0.x.y (node v20…)` (SPEC §14). */
export function versionLine(): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return `igord ${cachedVersion} (node ${process.version})`
}

export function parseLogLevel(text: string): LogLevel {
  const level = text.trim().toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new RangeError(`must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`)
  return level as LogLevel
}

/** `--log-level`, else IGOR_LOG_LEVEL, else info (SPEC §14). */
export function logLevelOf(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const fromEnv = env.IGOR_LOG_LEVEL
  let fallback: LogLevel = 'info'
  if (fromEnv !== undefined && fromEnv !== '') {
    try {
      fallback = parseLogLevel(fromEnv)
    } catch (error) {
      throw args.usage(`IGOR_LOG_LEVEL: ${(error as Error).message}`)
    }
  }
  return args.read('log-level', fallback, parseLogLevel)
}

export function timeoutOf(args: ParsedArgs): number {
  const ms = args.duration('timeout', DEFAULT_CLIENT_TIMEOUT_MS)
  if (ms <= 0) throw args.usage('--timeout must be more than 0')
  return ms
}

/** Export and import wait on durable writes and an admission: 60 s unless --timeout says otherwise. */
export function longTimeoutOf(args: ParsedArgs): number {
  return args.string('timeout') === undefined ? 60_000 : timeoutOf(args)
}

export function dataDirOf(args: ParsedArgs): string {
  return args.string('data-dir') ?? DEFAULT_DATA_DIR
}

export function checkedId(args: ParsedArgs, id: string): string {
  try {
    return validateAgentId(id)
  } catch (error) {
    throw args.usage((error as Error).message)
  }
}

export function parsePrice(text: string): bigint {
  if (!/^\d+$/.test(text.trim())) throw new RangeError(`must be a whole number of microcents ≥ 0, got ${JSON.stringify(text)}`)
  const value = BigInt(text.trim())
  if (value > I64_MAX) throw new RangeError(`must be at most ${I64_MAX}`)
  return value
}

export function parseByteCount(text: string): number {
  const value = Number(text.trim())
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1024) throw new RangeError(`must be a whole number of bytes ≥ 1024, got ${JSON.stringify(text)}`)
  return value
}

/** A whole number ≥ 1 (issue 8 point 6 limits). */
export function parseCount(text: string): number {
  const value = Number(text.trim())
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) throw new RangeError(`must be a whole number ≥ 1, got ${JSON.stringify(text)}`)
  return value
}

/** 1..256 agents per worker thread (issue 11). */
export function parseAgentsPerWorker(text: string): number {
  const value = parseCount(text)
  if (value > 256) throw new RangeError(`must be at most 256, got ${value}`)
  return value
}

export function parseBudget(text: string): bigint {
  if (text.trim().startsWith('-')) throw new RangeError(`must not be negative, got ${text}`)
  const value = unitsToMicrocents(text)
  if (value > I64_MAX) throw new RangeError('is larger than the largest budget (9223372036854.775807)')
  return value
}

/**
 * `--capabilities clock,log,http+arrivals` (SPEC §13): every name is offered to
 * the agents this node starts; to agents arriving by migration too, except
 * `http`, which reaches them only when written `http+arrivals`.
 */
export function parseCapabilities(text: string): { capabilities: CapabilityName[], arrivals: CapabilityName[] } {
  const capabilities: CapabilityName[] = []
  const arrivals: CapabilityName[] = []
  for (const entry of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const [name, scope, extra] = entry.split('+') as [string, string | undefined, string | undefined]
    if (!(CAPABILITIES as readonly string[]).includes(name)) throw new RangeError(`unknown capability ${JSON.stringify(name)} (known: ${CAPABILITIES.join(', ')})`)
    if (extra !== undefined || (scope !== undefined && scope !== 'arrivals')) throw new RangeError(`${JSON.stringify(entry)}: the only suffix is +arrivals (e.g. http+arrivals)`)
    const capability = name as CapabilityName
    if (!capabilities.includes(capability)) capabilities.push(capability)
    if ((scope === 'arrivals' || capability !== 'http') && !arrivals.includes(capability)) arrivals.push(capability)
  }
  return { capabilities, arrivals }
}

/** SPEC §13 `--http-allow` / `--http-deny`, checked before anything starts. */
export function egressRules(args: ParsedArgs): { httpAllow: string[], httpDeny: string[] } {
  const httpAllow = splitRules(args.strings('http-allow'))
  const httpDeny = splitRules(args.strings('http-deny'))
  try {
    EgressPolicy.parse({ allow: httpAllow, deny: httpDeny })
  } catch (error) {
    throw args.usage((error as Error).message)
  }
  return { httpAllow, httpDeny }
}

/** `host:port` or `[v6]:port`; port 0 picks a free one. */
export function parseHostPort(text: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  if (match === null || port > 65535) throw new RangeError(`must be <host>:<port>, e.g. 127.0.0.1:9464, got ${JSON.stringify(text)}`)
  return { host: (match[1] ?? match[2]) as string, port }
}

/** The closest of `candidates` to `word` (edit distance ≤ 2, or a prefix), for "did you mean" (SPEC §14). */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = (candidate.startsWith(word) && word.length >= 3) || (candidate.includes(word) && word.length >= 5) ? 1 : editDistance(word, candidate)
    if (d < bestDistance) { best = candidate; bestDistance = d }
  }
  return bestDistance <= Math.max(1, Math.min(2, Math.floor(word.length / 3))) ? best : null
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** ` (did you mean X?)`, or nothing. */
export function didYouMean(word: string, candidates: readonly string[], shown: (c: string) => string = (c) => c): string {
  const hit = closest(word, candidates)
  return hit === null ? '' : `; did you mean ${shown(hit)}?`
}

