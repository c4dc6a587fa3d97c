/**
 * A test host for agent authors (SPEC §13): runs an agent's wasm in-process,
 * synchronously, with a fake clock, seeded random bytes, a log collector and
 * an HTTP handler that answers `igor.http_request` with the node's return
 * codes and buffer layout. Tick it, checkpoint it, restart it from the
 * checkpoint, assert on state, logs and the requests it made.
 *
 *   const agent = loadAgent('build/agent.wasm', { http: (req) => ({ status: 200, body: '{}' }) })
 *   agent.init()
 *   agent.tick()
 *   const again = agent.restart()   // a fresh instance resumed from a checkpoint
 */
import { existsSync, readFileSync } from 'node:fs'
import { AgentKey, TEST1_SEED, walletPayReceipt, x402Options } from './wallet-pay-host.js'
import type { X402Options } from './wallet-pay-host.js'

/** The `igor` import each capability grants (SPEC §5, §13, §15, §16). */
export const CAPABILITY_IMPORTS = Object.freeze({
  clock: 'clock_now',
  rand: 'rand_bytes',
  log: 'log_emit',
  wallet: 'wallet_balance',
  pricing: 'node_price',
  http: 'http_request',
  x402: 'wallet_pay',
  mobility: 'request_move'
} as const)
export type Capability = keyof typeof CAPABILITY_IMPORTS

/** SPEC §15: the `igor` imports a capability grants besides its first one. */
export const MORE_IMPORTS: Readonly<Record<string, Capability>> = Object.freeze({ wallet_receipt_count: 'wallet', wallet_receipt: 'wallet' })

/** The capability behind an `igor.*` import, or undefined. */
export const capabilityOfImport = (name: string): Capability | undefined =>
  MORE_IMPORTS[name] ?? (Object.entries(CAPABILITY_IMPORTS).find(([, fn]) => fn === name)?.[0] as Capability | undefined)

/** Hostcall ids of the tick's event log (SPEC §12). */
export const HOSTCALL = Object.freeze({ clock: 1, rand: 2, log: 3, wallet: 4, receiptCount: 5, receipt: 6, pricing: 7, http: 8, walletPay: 9, move: 13, walletPayFailure: 14 } as const)

/** `http_request` return codes (SPEC §13). */
export const HTTP_ERR = Object.freeze({
  transport: -1,
  tooLong: -2,
  hostBlocked: -3,
  timeout: -4,
  tooLarge: -5,
  notOwner: -6
} as const)

const LIMITS = Object.freeze({ method: 16, url: 8192, headers: 32768, body: 1 << 20 })
const MAX_RAND_BYTES = 64 * 1024 * 1024
const MAX_LOG_BYTES = 1024 * 1024

export interface HttpRequest {
  /** Upper-cased; an empty method is GET. */
  readonly method: string
  readonly url: string
  /** Parsed like the node does: trimmed lines, split at the first colon, later duplicates win. Names as sent. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  /** `<agentId>:<tickNumber>:<n>`, the header the node adds. */
  readonly idempotencyKey: string
  /** The tick it was made in (1-based, as the node counts). */
  readonly tick: bigint
}

export interface HttpReply {
  status: number
  body?: Uint8Array | string
}

/**
 * Answers a request. Return a reply, or a negative code to simulate a failure
 * the node would report (−1 transport, −4 timeout). Allow-list, size limits,
 * the output gate and `max_response_bytes` are applied by the test host.
 */
export type HttpHandler = (request: HttpRequest) => HttpReply | number

export interface ManifestJson {
  capabilities?: Record<string, { version?: number, options?: Record<string, unknown> }>
  [key: string]: unknown
}

export interface TestHostOptions {
  /** The manifest (object or path). Default: the sidecar `<name>.manifest.json` next to a wasm path, else every capability. */
  manifest?: ManifestJson | string
  /** Used in Idempotency-Key headers. Default `test-agent`. */
  agentId?: string
  /** First `clock_now` value (default 1 000 000 000 ns) and the step after each call (default 1 s), like `igord simulate --deterministic`. */
  clockStartNs?: bigint
  clockStepNs?: bigint
  /** Seed of the random bytes: Go's `math/rand/v2` `NewPCG(seed, seed)`, one `Uint32()` per byte (default 42). */
  seed?: bigint | number
  /** `wallet_balance` answer in microcents (default 1 000 000). */
  balance?: bigint
  /** `node_price` answer in microcents per second (default 1000, igord's default `--price-per-second`). */
  price?: bigint
  /** SPEC §15: the receipts `wallet_receipt` serves, each one receipt's bytes, oldest first (default none). */
  receipts?: readonly Uint8Array[]
  http?: HttpHandler
  /** The output gate: false makes every HTTP request and every `wallet_pay` answer −6 and reach nothing (default true). */
  owner?: boolean
  /** SPEC §16: a move the agent asked for is still being placed: `request_move` answers −2 (default false). */
  movePending?: boolean
  /** SPEC §15 `wallet_pay`: the agent's Ed25519 seed (default the RFC 8032 test-1 seed, the §15 vector's key). */
  agentSeed?: Uint8Array
  /** SPEC §15 `wallet_pay`: the receipt's timestamp (default the next `clock_now` value, not advanced). */
  paymentTimeNs?: () => bigint
}

export interface Observation {
  readonly id: number
  readonly payload: Uint8Array
}

export interface TickResult {
  /** The agent reported more work pending. */
  readonly more: boolean
  /** Log lines of this tick. */
  readonly logs: string[]
  /** The tick's event log, as the node records it (SPEC §12). */
  readonly observations: Observation[]
  /** HTTP requests that reached the handler during this tick. */
  readonly requests: HttpRequest[]
  /** SPEC §16: the maximum of this tick's `request_move` that was answered 0, if any (the node would place the agent now). */
  readonly moveRequest?: bigint
}

/** Thrown for an agent the node would refuse, or a broken ABI call. */
export class TestHostError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'TestHostError'
    this.code = code
  }
}

interface AgentExports {
  memory: WebAssembly.Memory
  agent_init(): void
  agent_tick(): number | undefined
  agent_checkpoint(): number
  agent_checkpoint_ptr(): number
  agent_resume(ptr: number, len: number): void
  malloc(size: number): number
  _initialize?: () => void
}

const REQUIRED_EXPORTS = ['memory', 'agent_init', 'agent_tick', 'agent_checkpoint', 'agent_checkpoint_ptr', 'agent_resume', 'malloc']

/** Go's math/rand/v2 PCG (128-bit LCG, DXSM output), so seeds match `igord simulate --deterministic`. */
class Pcg {
  private static readonly MUL = (2549297995355413924n << 64n) | 4865540595714422341n
  private static readonly INC = (6364136223846793005n << 64n) | 1442695040888963407n
  private state: bigint
  constructor(seed: bigint) {
    const s = BigInt.asUintN(64, seed)
    this.state = (s << 64n) | s
  }

  nextByte(): number {
    this.state = BigInt.asUintN(128, this.state * Pcg.MUL + Pcg.INC)
    let hi = this.state >> 64n
    const lo = BigInt.asUintN(64, this.state)
    hi ^= hi >> 32n
    hi = BigInt.asUintN(64, hi * 0xda942042e4dd58b5n)
    hi ^= hi >> 48n
    hi = BigInt.asUintN(64, hi * (lo | 1n))
    return Number((hi >> 32n) & 0xffn)
  }
}

const utf8 = new TextDecoder()
const encoder = new TextEncoder()

/** `Name: Value` lines → record (SPEC §13): trimmed, colon-less lines skipped, later duplicates win. */
export function parseHeaderLines(text: string): Record<string, string> {
  const byLower = new Map<string, [string, string]>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    const colon = line.indexOf(':')
    if (line === '' || colon < 0) continue
    const name = line.slice(0, colon).trim()
    byLower.set(name.toLowerCase(), [name, line.slice(colon + 1).trim()])
  }
  return Object.fromEntries(byLower.values())
}

/** Lower-cased host of an absolute http(s) URL, port stripped; null when it is not one. */
export function urlHost(url: string): string | null {
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null
    return parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  } catch {
    return null
  }
}

interface HttpOptions {
  allowedHosts: Set<string>
  maxResponseBytes: number
}

function httpOptions(manifest: ManifestJson): HttpOptions {
  const options = manifest.capabilities?.http?.options ?? {}
  const hosts = Array.isArray(options.allowed_hosts) ? options.allowed_hosts : []
  const max = typeof options.max_response_bytes === 'number' ? Math.trunc(options.max_response_bytes) : 1 << 20
  return {
    // SPEC §13: non-string hosts ignored; an empty list allows nothing.
    allowedHosts: new Set(hosts.filter((h): h is string => typeof h === 'string').map((h) => h.toLowerCase())),
    maxResponseBytes: max
  }
}

function readManifest(wasm: string | Uint8Array, manifest: ManifestJson | string | undefined): ManifestJson {
  if (typeof manifest === 'object') return manifest
  let path = manifest
  if (path === undefined && typeof wasm === 'string') {
    const sidecar = wasm.replace(/\.wasm$/, '') + '.manifest.json'
    if (existsSync(sidecar)) path = sidecar
  }
  if (path === undefined) {
    return { capabilities: Object.fromEntries(Object.keys(CAPABILITY_IMPORTS).map((c) => [c, { version: 1 }])) }
  }
  return JSON.parse(readFileSync(path, 'utf8')) as ManifestJson
}

/** Host state that outlives an instance: a restart keeps the clock, the random stream, the handler and the records. */
class HostState {
  clockNs: bigint
  readonly clockStepNs: bigint
  readonly pcg: Pcg
  balance: bigint
  price: bigint
  receipts: readonly Uint8Array[]
  owner: boolean
  movePending: boolean
  /** SPEC §16: false when the manifest's `migration_policy.enabled` is false (`request_move` answers −1). */
  readonly migrationEnabled: boolean
  /** Every `request_move` answered 0 (its maximum), across restarts. */
  readonly moveRequests: bigint[] = []
  http: HttpHandler | undefined
  readonly agentId: string
  readonly capabilities: Set<string>
  readonly http_: HttpOptions
  readonly logs: string[] = []
  readonly requests: HttpRequest[] = []
  /** SPEC §15: every `wallet_pay` receipt, oldest first. */
  readonly payments: Uint8Array[] = []
  readonly agentKey: AgentKey
  readonly x402: X402Options
  readonly paymentTimeNs: (() => bigint) | undefined
  constructor(readonly module: WebAssembly.Module, readonly manifest: ManifestJson, options: TestHostOptions) {
    this.clockNs = options.clockStartNs ?? 1_000_000_000n
    this.clockStepNs = options.clockStepNs ?? 1_000_000_000n
    this.pcg = new Pcg(BigInt(options.seed ?? 42))
    this.balance = options.balance ?? 1_000_000n
    this.price = options.price ?? 1000n
    this.receipts = options.receipts ?? []
    this.owner = options.owner ?? true
    this.movePending = options.movePending ?? false
    const policy = manifest.migration_policy as { enabled?: unknown } | undefined
    this.migrationEnabled = policy?.enabled !== false
    this.http = options.http
    this.agentId = options.agentId ?? 'test-agent'
    this.capabilities = new Set(Object.keys(manifest.capabilities ?? {}))
    this.http_ = httpOptions(manifest)
    this.agentKey = new AgentKey(options.agentSeed ?? TEST1_SEED)
    this.x402 = x402Options(manifest.capabilities?.x402?.options)
    this.paymentTimeNs = options.paymentTimeNs
  }
}

/** Loads an agent (path or bytes) and instantiates it. Call `init()` for a first start, or `resume(state)`. */
export function loadAgent(wasm: string | Uint8Array, options: TestHostOptions = {}): TestAgent {
  const bytes = typeof wasm === 'string' ? readFileSync(wasm) : wasm
  const module = new WebAssembly.Module(bytes)
  const manifest = readManifest(wasm, options.manifest)
  return new TestAgent(new HostState(module, manifest, options), 0n)
}

export class TestAgent {
  private readonly exports: AgentExports
  private memory: WebAssembly.Memory
  private inTick = false
  private tickLogs: string[] = []
  private tickObservations: Observation[] = []
  private tickRequests: HttpRequest[] = []
  private callIndex = 0
  private tickMove: bigint | undefined = undefined
  /** Ticks completed (the next tick is `tickNumber + 1`). Restored by `restart`. */
  tickNumber: bigint
  /** The bytes of the last `checkpoint()`, or null. */
  lastCheckpoint: Uint8Array | null = null

  /** @internal use loadAgent */
  constructor(private readonly host: HostState, tickNumber: bigint) {
    this.tickNumber = tickNumber
    const imports = this.imports()
    let instance: WebAssembly.Instance
    try {
      instance = new WebAssembly.Instance(host.module, imports)
    } catch (error) {
      throw new TestHostError('INSTANTIATE_FAILED', `the agent did not instantiate: ${(error as Error).message}`)
    }
    const exports = instance.exports as unknown as AgentExports
    const missing = REQUIRED_EXPORTS.filter((name) => !(name in instance.exports))
    if (missing.length > 0) throw new TestHostError('ABI_MISSING_EXPORT', `the agent does not export ${missing.join(', ')}`)
    this.exports = exports
    this.memory = exports.memory
    exports._initialize?.()
  }

  /** Every log line so far, across restarts. */
  get logs(): readonly string[] {
    return this.host.logs
  }

  /** Every HTTP request that reached the handler so far, across restarts. */
  get requests(): readonly HttpRequest[] {
    return this.host.requests
  }

  /** Next `clock_now` value. */
  get clockNs(): bigint {
    return this.host.clockNs
  }

  set clockNs(value: bigint) {
    this.host.clockNs = value
  }

  get owner(): boolean {
    return this.host.owner
  }

  /** Whether HTTP requests pass the output gate (false → −6, nothing sent). */
  set owner(value: boolean) {
    this.host.owner = value
  }

  /** The budget `wallet_balance` answers (lowered by each payment). */
  get balance(): bigint {
    return this.host.balance
  }

  set balance(value: bigint) {
    this.host.balance = value
  }

  /** What `node_price` answers from now on, e.g. to test an agent's reaction to `igord price set`. */
  get price(): bigint {
    return this.host.price
  }

  set price(value: bigint) {
    this.host.price = value
  }

  /** SPEC §15: what `wallet_receipt_count` / `wallet_receipt` serve from now on (each one receipt's bytes). */
  get receipts(): readonly Uint8Array[] {
    return this.host.receipts
  }

  set receipts(value: readonly Uint8Array[]) {
    this.host.receipts = value
  }

  /** SPEC §16: whether `request_move` answers −2 (a move pending). The test host sets it after each request answered 0; clear it to say the agent stayed. */
  get movePending(): boolean {
    return this.host.movePending
  }

  set movePending(value: boolean) {
    this.host.movePending = value
  }

  /** SPEC §16: the maximum of every `request_move` answered 0 so far, across restarts. */
  get moveRequests(): readonly bigint[] {
    return this.host.moveRequests
  }

  /** SPEC §15: every `wallet_pay` receipt so far (across restarts), oldest first. */
  get payments(): readonly Uint8Array[] {
    return this.host.payments
  }

  /** Replaces the HTTP handler. */
  set http(handler: HttpHandler | undefined) {
    this.host.http = handler
  }

  init(): void {
    this.exports.agent_init()
  }

  /** Runs one `agent_tick`. A trap propagates as the WebAssembly.RuntimeError. */
  tick(): TickResult {
    this.tickLogs = []
    this.tickObservations = []
    this.tickRequests = []
    this.tickMove = undefined
    this.callIndex = 0
    this.inTick = true
    let result: number | undefined
    try {
      result = this.exports.agent_tick()
    } finally {
      this.inTick = false
    }
    this.tickNumber += 1n
    return {
      more: typeof result === 'number' && result !== 0,
      logs: this.tickLogs,
      observations: this.tickObservations,
      requests: this.tickRequests,
      ...(this.tickMove !== undefined ? { moveRequest: this.tickMove } : {})
    }
  }

  /** Runs `n` ticks; returns the last result. */
  ticks(n: number): TickResult {
    let last: TickResult | undefined
    for (let i = 0; i < n; i++) last = this.tick()
    if (last === undefined) throw new TestHostError('BAD_ARGUMENT', 'ticks(n) needs n ≥ 1')
    return last
  }

  /** `agent_checkpoint` + `agent_checkpoint_ptr`: a copy of the state bytes. */
  checkpoint(): Uint8Array {
    const size = this.exports.agent_checkpoint()
    const ptr = this.exports.agent_checkpoint_ptr() >>> 0
    if (size < 0 || ptr + size > this.memory.buffer.byteLength) {
      throw new TestHostError('ABI_BAD_CHECKPOINT', `agent_checkpoint returned ${size} bytes at ${ptr}, outside its memory`)
    }
    this.lastCheckpoint = new Uint8Array(this.memory.buffer, ptr, size).slice()
    return this.lastCheckpoint
  }

  /** `malloc` + `agent_resume` on this instance. */
  resume(state: Uint8Array): void {
    const ptr = this.exports.malloc(state.byteLength) >>> 0
    if (ptr === 0 || ptr + state.byteLength > this.memory.buffer.byteLength) {
      throw new TestHostError('ABI_BAD_MALLOC', `malloc(${state.byteLength}) returned an unusable pointer ${ptr}`)
    }
    new Uint8Array(this.memory.buffer, ptr, state.byteLength).set(state)
    this.exports.agent_resume(ptr, state.byteLength)
  }

  /**
   * A fresh instance resumed from `state` (default: a new checkpoint of this
   * one), as a node does after a restart or a migration: `agent_init`, then
   * `agent_resume` (SPEC §12: the order that tells the SDK to apply its
   * after-a-crash rules; a replay resumes without `agent_init`, see `replayFrom`).
   * The clock, random stream, handler and records carry over.
   * `tickNumber` is the node's tick count stored with that state (default:
   * this instance's): pass an older one to re-execute ticks after a crash, as
   * a node does when it resumes from its last checkpoint.
   */
  restart(state?: Uint8Array, tickNumber?: bigint): TestAgent {
    const bytes = state ?? this.checkpoint()
    const next = new TestAgent(this.host, tickNumber ?? this.tickNumber)
    next.init()
    next.resume(bytes)
    return next
  }

  /**
   * A fresh instance restored from `state` as a replay restores it (SPEC §12):
   * `agent_resume` with no `agent_init` before it, so the state is exactly the
   * one given (an EffectLog keeps its InFlight intents).
   */
  replayFrom(state: Uint8Array, tickNumber?: bigint): TestAgent {
    const next = new TestAgent(this.host, tickNumber ?? this.tickNumber)
    next.resume(state)
    return next
  }

  private bytes(ptr: number, len: number): Uint8Array | null {
    const start = ptr >>> 0
    const length = len >>> 0
    this.memory = this.exports.memory
    if (start + length > this.memory.buffer.byteLength) return null
    return new Uint8Array(this.memory.buffer, start, length)
  }

  private observe(id: number, payload: Uint8Array): void {
    if (this.inTick) this.tickObservations.push({ id, payload: payload.slice() })
  }

  private u64(value: bigint): Uint8Array {
    const out = new Uint8Array(8)
    new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), true)
    return out
  }

  private imports(): WebAssembly.Imports {
    const host = this.host
    const all: Record<Capability, (...args: never[]) => unknown> = {
      clock: (): bigint => {
        const now = host.clockNs
        host.clockNs += host.clockStepNs
        this.observe(HOSTCALL.clock, this.u64(now))
        return now
      },
      rand: (ptr: number, len: number): number => {
        if (len >>> 0 > MAX_RAND_BYTES) return -2
        const target = this.bytes(ptr, len)
        if (target === null) return -4
        for (let i = 0; i < target.length; i++) target[i] = host.pcg.nextByte()
        if (target.length > 0) this.observe(HOSTCALL.rand, target)
        return 0
      },
      log: (ptr: number, len: number): void => {
        if (len >>> 0 > MAX_LOG_BYTES) return
        const bytes = this.bytes(ptr, len)
        if (bytes === null || bytes.length === 0) return
        this.observe(HOSTCALL.log, bytes)
        const line = utf8.decode(bytes)
        host.logs.push(line)
        this.tickLogs.push(line)
      },
      wallet: (): bigint => {
        this.observe(HOSTCALL.wallet, this.u64(host.balance))
        return host.balance
      },
      // SPEC §15: id 7, u64 LE, like wallet_balance.
      pricing: (): bigint => {
        this.observe(HOSTCALL.pricing, this.u64(host.price))
        return BigInt.asIntN(64, host.price)
      },
      http: (...args: number[]): number => this.httpRequest(args),
      x402: (amount: bigint, ...args: number[]): number => this.walletPay(amount, args),
      // SPEC §16: −1 migration disabled, −2 a move pending, else noted (0); id 13, the answer as u32 LE.
      mobility: (maxPrice: bigint): number => {
        const answer = !host.migrationEnabled ? -1 : host.movePending ? -2 : 0
        if (answer === 0) {
          host.movePending = true
          host.moveRequests.push(BigInt.asIntN(64, maxPrice))
          if (this.inTick) this.tickMove = BigInt.asIntN(64, maxPrice)
        }
        const payload = new Uint8Array(4)
        new DataView(payload.buffer).setInt32(0, answer, true)
        this.observe(HOSTCALL.move, payload)
        return answer
      }
    }
    const igor: WebAssembly.ModuleImports = {}
    for (const [capability, name] of Object.entries(CAPABILITY_IMPORTS)) {
      if (host.capabilities.has(capability)) igor[name] = all[capability as Capability]
    }
    if (host.capabilities.has('wallet')) Object.assign(igor, this.receiptImports())
    for (const imp of WebAssembly.Module.imports(host.module)) {
      if (imp.module !== 'igor') {
        throw new TestHostError('IMPORT_REFUSED', `the agent imports ${imp.module}.${imp.name}; igord gives agents only igor.* (build with igor-build, which replaces env.abort)`)
      }
      if (!(imp.name in igor)) {
        const capability = capabilityOfImport(imp.name)
        throw new TestHostError('IMPORT_REFUSED', capability === undefined
          ? `the agent imports igor.${imp.name}, which no capability provides`
          : `the agent imports igor.${imp.name} but its manifest does not declare the "${capability}" capability`)
      }
    }
    return { igor }
  }

  /** SPEC §15: ids 5 (count, u32 LE) and 6 (the receipt, only on success), as the node answers them. */
  private receiptImports(): WebAssembly.ModuleImports {
    const host = this.host
    return {
      wallet_receipt_count: (): number => {
        const payload = new Uint8Array(4)
        new DataView(payload.buffer).setUint32(0, host.receipts.length, true)
        this.observe(HOSTCALL.receiptCount, payload)
        return host.receipts.length
      },
      wallet_receipt: (index: number, ptr: number, len: number): number => {
        const receipt = index >= 0 ? host.receipts[index] : undefined
        if (receipt === undefined) return -1
        if (receipt.byteLength > len >>> 0) return -4
        const target = this.bytes(ptr, receipt.byteLength)
        if (target === null) return -4
        target.set(receipt)
        this.observe(HOSTCALL.receipt, receipt.slice())
        return receipt.byteLength
      }
    }
  }

  // SPEC §15 wallet_pay, in the node's order; id 9 on success, id 14 (ours) on a refusal.
  private walletPay(amount: bigint, args: number[]): number {
    const code = this.walletPayAnswer(amount, args)
    if (code < 0) {
      const [, , , , receiptPtr = 0, receiptCap = 0] = args.map((a) => a >>> 0)
      const hint = code === -5 && receiptCap >= 4 ? this.bytes(receiptPtr, 4) : null
      const payload = new Uint8Array(hint === null ? 4 : 8)
      new DataView(payload.buffer).setInt32(0, code, true)
      if (hint !== null) payload.set(hint, 4)
      this.observe(HOSTCALL.walletPayFailure, payload)
    }
    return code
  }

  private walletPayAnswer(amount: bigint, args: number[]): number {
    const [rPtr, rLen, mPtr, mLen, receiptPtr, receiptCap] = args.map((a) => a >>> 0) as [number, number, number, number, number, number]
    if (rLen > 256 || mLen > 512) return -2
    const recipient = this.bytes(rPtr, rLen)
    const memo = this.bytes(mPtr, mLen)
    if (recipient === null || memo === null) return -6
    const length = 120 + rLen + mLen
    if (4 + length <= receiptCap && this.bytes(receiptPtr, 4 + length) === null) return -6
    if (amount <= 0n) return -6
    if (!this.inTick) return -6
    const { x402 } = this.host
    if (x402.maxPaymentMicrocents > 0n && amount > x402.maxPaymentMicrocents) return -4
    let text: string | null = null
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(recipient)
    } catch {
      text = null
    }
    if (text === null || !x402.allowedRecipients.includes(text)) return -3
    if (4 + length > receiptCap) {
      if (receiptCap >= 4) new DataView(this.memory.buffer, receiptPtr, 4).setUint32(0, length, true)
      return -5
    }
    if (!this.host.owner) return -6
    if (this.host.balance < amount) return -1
    const receipt = walletPayReceipt(amount, this.host.paymentTimeNs?.() ?? this.host.clockNs, recipient.slice(), memo.slice(), this.host.agentKey)
    this.host.balance -= amount
    this.host.payments.push(receipt)
    const out = this.bytes(receiptPtr, 4 + length)!
    new DataView(out.buffer, out.byteOffset, 4).setUint32(0, length, true)
    out.set(receipt, 4)
    const payload = new Uint8Array(8 + length)
    new DataView(payload.buffer).setBigUint64(0, BigInt.asUintN(64, amount), true)
    payload.set(receipt, 8)
    this.observe(HOSTCALL.walletPay, payload)
    return 4 + length
  }

  // SPEC §13, steps 1–9, in order.
  private httpRequest(args: number[]): number {
    const [methodPtr, methodLen, urlPtr, urlLen, headersPtr, headersLen, bodyPtr, bodyLen, respPtr, respCap] = args.map((a) => a >>> 0) as [number, number, number, number, number, number, number, number, number, number]
    if (methodLen > LIMITS.method || urlLen > LIMITS.url || headersLen > LIMITS.headers || bodyLen > LIMITS.body) return HTTP_ERR.tooLong
    const method = this.bytes(methodPtr, methodLen)
    const url = this.bytes(urlPtr, urlLen)
    const headers = this.bytes(headersPtr, headersLen)
    const body = this.bytes(bodyPtr, bodyLen)
    if (method === null || url === null || headers === null || body === null) return HTTP_ERR.transport
    const urlText = utf8.decode(url)
    const host = urlHost(urlText)
    if (host === null || !this.host.http_.allowedHosts.has(host)) return HTTP_ERR.hostBlocked
    if (!this.host.owner) return HTTP_ERR.notOwner
    const tick = this.tickNumber + 1n
    const request: HttpRequest = {
      method: utf8.decode(method).toUpperCase() || 'GET',
      url: urlText,
      headers: parseHeaderLines(utf8.decode(headers)),
      body: body.slice(),
      idempotencyKey: `${this.host.agentId}:${tick}:${this.callIndex++}`,
      tick
    }
    if (this.host.http === undefined) throw new TestHostError('NO_HTTP_HANDLER', `the agent made an HTTP request (${request.method} ${request.url}) but the test gave no http handler`)
    this.host.requests.push(request)
    this.tickRequests.push(request)
    const reply = this.host.http(request)
    if (typeof reply === 'number') {
      if (reply >= 0) throw new TestHostError('BAD_HANDLER_REPLY', `an http handler may return a reply or a negative code, not ${reply}`)
      return reply
    }
    const replyBody = typeof reply.body === 'string' ? encoder.encode(reply.body) : reply.body ?? new Uint8Array(0)
    const max = this.host.http_.maxResponseBytes
    const view = (): DataView | null => {
      const target = this.bytes(respPtr, Math.min(respCap, 4))
      return target === null || target.length < 4 ? null : new DataView(target.buffer, target.byteOffset, 4)
    }
    if (replyBody.length > max) {
      view()?.setUint32(0, max + 1, true)
      return HTTP_ERR.tooLarge
    }
    if (4 + replyBody.length > respCap) {
      view()?.setUint32(0, replyBody.length, true)
      return HTTP_ERR.tooLarge
    }
    const out = this.bytes(respPtr, 4 + replyBody.length)
    if (out === null) return HTTP_ERR.transport
    new DataView(out.buffer, out.byteOffset, 4).setUint32(0, replyBody.length, true)
    out.set(replyBody, 4)
    const payload = new Uint8Array(4 + replyBody.length)
    new DataView(payload.buffer).setUint32(0, reply.status, true)
    payload.set(replyBody, 4)
    this.observe(HOSTCALL.http, payload)
    return reply.status
  }
}

/** Lower-case hex of bytes, for assertions. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/**
 * Reads agent state the way the SDK's `Decoder` does (SPEC §13 formats), for
 * assertions on `checkpoint()` bytes: little-endian, `bytes` = u32 length ‖
 * bytes, `string` = UTF-8 bytes. Unlike the in-wasm Decoder it throws on a
 * short read, with the offset.
 */
export class StateReader {
  private pos = 0
  private readonly view: DataView
  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  get remaining(): number {
    return this.data.length - this.pos
  }

  private need(n: number): number {
    if (n > this.remaining) throw new TestHostError('SHORT_STATE', `state too short: ${n} bytes wanted at offset ${this.pos}, ${this.remaining} left`)
    const at = this.pos
    this.pos += n
    return at
  }

  uint64(): bigint { return this.view.getBigUint64(this.need(8), true) }
  int64(): bigint { return this.view.getBigInt64(this.need(8), true) }
  uint32(): number { return this.view.getUint32(this.need(4), true) }
  int32(): number { return this.view.getInt32(this.need(4), true) }
  uint8(): number { return this.view.getUint8(this.need(1)) }
  bool(): boolean { return this.uint8() !== 0 }
  fixedBytes(n: number): Uint8Array { const at = this.need(n); return this.data.slice(at, at + n) }
  bytes(): Uint8Array { return this.fixedBytes(this.uint32()) }
  string(): string { return utf8.decode(this.bytes()) }

  /** An EffectLog written with `encode` (u32 count, then state ‖ id ‖ data per intent). */
  effectLog(): Array<{ id: string, state: number, data: Uint8Array }> {
    const count = this.uint32()
    const out: Array<{ id: string, state: number, data: Uint8Array }> = []
    for (let i = 0; i < count; i++) {
      const state = this.uint8()
      out.push({ id: utf8.decode(this.bytes()), state, data: this.bytes() })
    }
    return out
  }
}
