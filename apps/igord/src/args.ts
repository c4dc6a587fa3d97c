import { parseArgs } from 'node:util'
import { DEFAULT_LEASE_CONFIG, validateLeaseConfig } from '@igor/lease'
import type { LeaseConfig } from '@igor/lease'
import { CAPABILITIES, unitsToMicrocents, validateAgentId } from '@igor/runner'
import type { CapabilityName } from '@igor/runner'
import { parseDuration } from './duration.js'

/** A bad command line: printed as one line, exit code 2, nothing started (SPEC §10). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export interface StartOptions {
  readonly kind: 'start'
  readonly agents: ReadonlyArray<{ wasmPath: string, manifestPath?: string, agentId?: string }>
  readonly budget: bigint
  /** null: leases disabled. */
  readonly lease: LeaseConfig | null
  readonly pricePerSecond: bigint
  readonly dataDir: string
  readonly listen: string
  readonly capabilities: readonly CapabilityName[]
  readonly transferTimeoutMs: number
  readonly maxTransferBytes: number
  readonly logFormat: 'json' | 'pretty'
}

export type Command =
  | StartOptions
  | { readonly kind: 'status', readonly dataDir: string, readonly json: boolean }
  | { readonly kind: 'migrate', readonly dataDir: string, readonly agentId: string, readonly to: string }
  | { readonly kind: 'recover', readonly dataDir: string, readonly agentId: string }
  | { readonly kind: 'inspect', readonly checkpointPath: string, readonly wasmPath: string | null, readonly json: boolean }
  | { readonly kind: 'help' }

const I64_MAX = (1n << 63n) - 1n
const DEFAULT_DATA_DIR = './igor-data'

const START_FLAGS = {
  'run-agent': { type: 'string', multiple: true },
  budget: { type: 'string' },
  manifest: { type: 'string' },
  'agent-id': { type: 'string' },
  'lease-duration': { type: 'string' },
  'lease-grace': { type: 'string' },
  'lease-renewal-window': { type: 'string' },
  'price-per-second': { type: 'string' },
  'data-dir': { type: 'string' },
  listen: { type: 'string' },
  capabilities: { type: 'string' },
  'transfer-timeout': { type: 'string' },
  'max-transfer-bytes': { type: 'string' },
  'log-format': { type: 'string' },
  'inspect-checkpoint': { type: 'string' },
  'inspect-wasm': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const

/** Turns node:util parseArgs errors into one-line usage errors and bounds the positionals. */
function parse<T extends { positionals: string[] }>(run: () => T, positionals: number): T {
  let parsed: T
  try {
    parsed = run()
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments')
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`)
  return parsed
}

function flag<T>(name: string, text: string | undefined, fallback: T, read: (text: string) => T): T {
  if (text === undefined) return fallback
  try {
    return read(text)
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`)
  }
}

function duration(name: string, text: string | undefined, fallbackMs: number): number {
  return flag(name, text, fallbackMs, parseDuration)
}

function parsePrice(text: string): bigint {
  if (!/^\d+$/.test(text.trim())) throw new RangeError(`must be a whole number of microcents ≥ 0, got ${JSON.stringify(text)}`)
  const value = BigInt(text.trim())
  if (value > I64_MAX) throw new RangeError(`must be at most ${I64_MAX}`)
  return value
}

function parseByteCount(text: string): number {
  const value = Number(text.trim())
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1024) throw new RangeError(`must be a whole number of bytes ≥ 1024, got ${JSON.stringify(text)}`)
  return value
}

function parseBudget(text: string): bigint {
  if (text.trim().startsWith('-')) throw new RangeError(`must not be negative, got ${text}`)
  const value = unitsToMicrocents(text)
  if (value > I64_MAX) throw new RangeError('is larger than the largest budget (9223372036854.775807)')
  return value
}

function parseCapabilities(text: string): CapabilityName[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  for (const name of names) {
    if (!(CAPABILITIES as readonly string[]).includes(name)) throw new RangeError(`unknown capability ${JSON.stringify(name)} (known: ${CAPABILITIES.join(', ')})`)
  }
  return names as CapabilityName[]
}

function dataDirOf(values: { 'data-dir'?: string | undefined }): string {
  return values['data-dir'] ?? DEFAULT_DATA_DIR
}

/** Parses and validates the whole command line before anything starts (SPEC §10). */
export function parseCommand(argv: readonly string[]): Command {
  const args = [...argv]
  const sub = args[0]
  if (sub === 'status') {
    const { values } = parse(() => parseArgs({ args: args.slice(1), options: { 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true }), 0)
    return { kind: 'status', dataDir: dataDirOf(values), json: values.json === true }
  }
  if (sub === 'migrate') {
    const { values, positionals } = parse(() => parseArgs({ args: args.slice(1), options: { 'data-dir': { type: 'string' }, to: { type: 'string' } }, strict: true, allowPositionals: true }), 1)
    const agentId = positionals[0]
    if (agentId === undefined) throw new UsageError('migrate needs an agent id: igord migrate <agentId> --to <multiaddr>')
    if (values.to === undefined) throw new UsageError('migrate needs --to <multiaddr> (the target node\'s address, e.g. /ip4/10.0.0.2/tcp/4001/p2p/12D3Koo…)')
    return { kind: 'migrate', dataDir: dataDirOf(values), agentId: checkedId(agentId), to: values.to }
  }
  if (sub === 'recover') {
    const { values, positionals } = parse(() => parseArgs({ args: args.slice(1), options: { 'data-dir': { type: 'string' } }, strict: true, allowPositionals: true }), 1)
    const agentId = positionals[0]
    if (agentId === undefined) throw new UsageError('recover needs an agent id: igord recover <agentId>')
    return { kind: 'recover', dataDir: dataDirOf(values), agentId: checkedId(agentId) }
  }
  const startArgs = joinNegativeValues(sub === 'start' ? args.slice(1) : args)
  const { values } = parse(() => parseArgs({ args: startArgs, options: START_FLAGS, strict: true, allowPositionals: true }), 0)
  if (values.help === true) return { kind: 'help' }
  if (values['inspect-checkpoint'] !== undefined) {
    return { kind: 'inspect', checkpointPath: values['inspect-checkpoint'], wasmPath: values['inspect-wasm'] ?? null, json: values.json === true }
  }
  if (values['inspect-wasm'] !== undefined) throw new UsageError('--inspect-wasm goes with --inspect-checkpoint <file>')
  const runAgents = values['run-agent'] ?? []
  if (runAgents.length > 1 && (values.manifest !== undefined || values['agent-id'] !== undefined)) {
    throw new UsageError('--manifest and --agent-id apply to a single --run-agent; with several agents use sidecar manifests and file names')
  }
  const agents = runAgents.map((wasmPath) => ({
    wasmPath,
    ...(values.manifest !== undefined ? { manifestPath: values.manifest } : {}),
    ...(values['agent-id'] !== undefined ? { agentId: checkedId(values['agent-id']) } : {})
  }))
  const durationMs = duration('lease-duration', values['lease-duration'], DEFAULT_LEASE_CONFIG.durationMs)
  const gracePeriodMs = duration('lease-grace', values['lease-grace'], DEFAULT_LEASE_CONFIG.gracePeriodMs)
  const renewalWindow = flag('lease-renewal-window', values['lease-renewal-window'], DEFAULT_LEASE_CONFIG.renewalWindow, (text) => {
    if (!/^\d*\.?\d+$/.test(text.trim())) throw new RangeError(`must be a number strictly between 0 and 1, got ${JSON.stringify(text)}`)
    return Number(text)
  })
  let lease: LeaseConfig | null = null
  if (durationMs !== 0) {
    lease = { durationMs, renewalWindow, gracePeriodMs }
    try {
      validateLeaseConfig(lease)
    } catch (error) {
      throw new UsageError(`lease: ${(error as Error).message}`)
    }
  } else {
    // Leases are off, but the other lease flags must still be sane (SPEC §10: refuse before anything starts).
    if (!(renewalWindow > 0 && renewalWindow < 1)) throw new UsageError(`--lease-renewal-window must be strictly between 0 and 1, got ${renewalWindow}`)
  }
  const logFormat = values['log-format'] ?? 'json'
  if (logFormat !== 'json' && logFormat !== 'pretty') throw new UsageError(`--log-format must be json or pretty, got ${JSON.stringify(logFormat)}`)
  return {
    kind: 'start',
    agents,
    budget: flag('budget', values.budget, 1_000_000n, parseBudget),
    lease,
    pricePerSecond: flag('price-per-second', values['price-per-second'], 1000n, parsePrice),
    dataDir: dataDirOf(values),
    listen: values.listen ?? '/ip4/0.0.0.0/tcp/4001',
    capabilities: flag('capabilities', values.capabilities, [...CAPABILITIES], parseCapabilities),
    transferTimeoutMs: duration('transfer-timeout', values['transfer-timeout'], 30_000),
    maxTransferBytes: flag('max-transfer-bytes', values['max-transfer-bytes'], 192 * 1024 * 1024, parseByteCount),
    logFormat
  }
}

/**
 * `--budget -1` would otherwise be read as a missing value followed by an
 * unknown flag; joining it to `--budget=-1` lets the value check give the
 * real answer ("must not be negative").
 */
function joinNegativeValues(args: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const name = arg.startsWith('--') ? arg.slice(2) : null
    const next = args[i + 1]
    const takesValue = name !== null && (START_FLAGS as Record<string, { type: string }>)[name]?.type === 'string'
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`)
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}

function checkedId(id: string): string {
  try {
    return validateAgentId(id)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
