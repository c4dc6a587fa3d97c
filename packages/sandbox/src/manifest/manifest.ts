import { ModuleError } from '../errors.js'
import { CAPABILITIES, CAPABILITY_VERSIONS, isCapabilityName } from './capabilities.js'
import type { CapabilityName } from './capabilities.js'
import { JsonNumber, JsonSyntaxError, jsonNumberToBigInt, parseJson } from './exact-json.js'
import { readHttpOptions } from './http-options.js'
import type { HttpOptions } from './http-options.js'
import { readX402Options } from './x402-options.js'
import type { X402Options } from './x402-options.js'
import type { JsonObject, JsonValue } from './exact-json.js'

/** SPEC §5 limits: 64 MiB of linear memory per agent. */
export const NODE_MEMORY_LIMIT_BYTES = 64 * 1024 * 1024
/** One WebAssembly page: the smallest memory limit that means anything. */
export const WASM_PAGE_BYTES = 64 * 1024
/** Largest signed 64-bit value: prices are i64 microcents (SPEC §4). */
const I64_MAX = (1n << 63n) - 1n

export interface CapabilityDeclaration {
  readonly version: number
}

export interface MigrationPolicy {
  /** Whether the agent may be handed to another node; true when the manifest says nothing. */
  readonly enabled: boolean
  /** Highest price (microcents per second) the agent accepts on a target node; null = no cap. */
  readonly maxPricePerSecond: bigint | null
}

/** A validated agent manifest (SPEC §5 "Manifest"). */
export interface Manifest {
  readonly capabilities: ReadonlyMap<CapabilityName, CapabilityDeclaration>
  /** `resource_limits.max_memory_bytes`, or null when the node limit applies. */
  readonly maxMemoryBytes: number | null
  readonly migration: MigrationPolicy
  /** `capabilities.http.options` when `http` is declared (SPEC §13), else null. */
  readonly http: HttpOptions | null
  /** `capabilities.x402.options` when `x402` is declared (SPEC §15 `wallet_pay`), else null. */
  readonly x402: X402Options | null
  /** The original bytes; empty when there is no manifest. */
  readonly raw: Uint8Array
  /** The path or label it was read from; null when there is no manifest. */
  readonly source: string | null
}

export interface ManifestOptions {
  /** Label used in error messages, usually the file path. */
  source: string
  /** Defaults to `NODE_MEMORY_LIMIT_BYTES`. */
  nodeMemoryLimitBytes?: number
}

/** No manifest: no capabilities, node memory limit, migration enabled without a price cap. */
export const EMPTY_MANIFEST: Manifest = Object.freeze({
  capabilities: new Map<CapabilityName, CapabilityDeclaration>(),
  maxMemoryBytes: null,
  migration: Object.freeze({ enabled: true, maxPricePerSecond: null }),
  http: null,
  x402: null,
  raw: new Uint8Array(0),
  source: null
})

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Parses and validates a manifest. Every refusal is a one-line
 * `ModuleError('MANIFEST_INVALID')` naming the source and the field (SPEC §10).
 * Unknown top-level keys (and unknown keys inside known sections) are ignored
 * for forward compatibility; unknown capabilities are refused.
 */
export function parseManifest(input: string | Uint8Array, options: ManifestOptions): Manifest {
  const { source } = options
  const nodeLimit = options.nodeMemoryLimitBytes ?? NODE_MEMORY_LIMIT_BYTES
  const fail = (message: string): never => {
    throw new ModuleError('MANIFEST_INVALID', `manifest ${source}: ${message}`)
  }

  let text: string
  let raw: Uint8Array
  if (typeof input === 'string') {
    text = input.startsWith('\uFEFF') ? input.slice(1) : input
    raw = new TextEncoder().encode(input)
  } else {
    raw = input.slice()
    try {
      text = utf8.decode(input) // drops a leading BOM
    } catch {
      return fail('not valid UTF-8')
    }
  }

  let document: JsonValue
  try {
    document = parseJson(text)
  } catch (error) {
    if (error instanceof JsonSyntaxError) return fail(`not valid JSON (${error.message})`)
    throw error
  }
  if (!isObject(document)) return fail(`must be a JSON object (got ${describe(document)})`)

  const capabilities = readCapabilities(document.get('capabilities'), fail)
  const manifest: Manifest = {
    capabilities,
    maxMemoryBytes: readMaxMemory(document.get('resource_limits'), nodeLimit, fail),
    migration: Object.freeze(readMigration(document.get('migration_policy'), fail)),
    http: capabilities.has('http') ? readHttpOptions(optionsOf(document, 'http'), 'capabilities.http.options', fail) : null,
    x402: capabilities.has('x402') ? readX402Options(optionsOf(document, 'x402'), 'capabilities.x402.options', fail) : null,
    raw,
    source
  }
  return Object.freeze(manifest)
}

type Fail = (message: string) => never

function readCapabilities(value: JsonValue | undefined, fail: Fail): Map<CapabilityName, CapabilityDeclaration> {
  const capabilities = new Map<CapabilityName, CapabilityDeclaration>()
  if (value === undefined || value === null) return capabilities
  if (!isObject(value)) return fail(`capabilities must be an object (got ${describe(value)})`)
  for (const [name, declaration] of value) {
    if (!isCapabilityName(name)) return fail(`unknown capability ${JSON.stringify(name)} (known: ${CAPABILITIES.join(', ')})`)
    const field = `capabilities.${name}`
    if (!isObject(declaration)) return fail(`${field} must be an object like {"version": 1} (got ${describe(declaration)})`)
    const version = declaration.get('version')
    if (version === undefined) return fail(`${field}.version is missing`)
    const integer = version instanceof JsonNumber ? jsonNumberToBigInt(version) : null
    if (integer === null || integer < 1n) return fail(`${field}.version must be an integer ≥ 1 (got ${describe(version)})`)
    const supported = CAPABILITY_VERSIONS[name]
    if (integer > BigInt(supported)) return fail(`${field}.version ${describe(version)} is not supported (this node provides version ${supported})`)
    capabilities.set(name, Object.freeze({ version: Number(integer) }))
  }
  return capabilities
}

function optionsOf(document: JsonObject, name: string): JsonValue | undefined {
  const capabilities = document.get('capabilities')
  const declaration = capabilities instanceof Map ? capabilities.get(name) : undefined
  return declaration instanceof Map ? declaration.get('options') : undefined
}

function readMaxMemory(value: JsonValue | undefined, nodeLimit: number, fail: Fail): number | null {
  if (value === undefined || value === null) return null
  if (!isObject(value)) return fail(`resource_limits must be an object (got ${describe(value)})`)
  const field = 'resource_limits.max_memory_bytes'
  const limit = value.get('max_memory_bytes')
  if (limit === undefined || limit === null) return null
  const bytes = limit instanceof JsonNumber ? jsonNumberToBigInt(limit) : null
  if (bytes === null) return fail(`${field} must be an integer (got ${describe(limit)})`)
  if (bytes < BigInt(WASM_PAGE_BYTES)) return fail(`${field} must be at least ${WASM_PAGE_BYTES}, one WebAssembly page (got ${describe(limit)})`)
  if (bytes > BigInt(nodeLimit)) return fail(`${field} ${describe(limit)} exceeds the node limit ${nodeLimit}`)
  return Number(bytes)
}

function readMigration(value: JsonValue | undefined, fail: Fail): MigrationPolicy {
  if (value === undefined || value === null) return { enabled: true, maxPricePerSecond: null }
  if (!isObject(value)) return fail(`migration_policy must be an object (got ${describe(value)})`)
  const enabled = value.get('enabled') ?? true
  if (typeof enabled !== 'boolean') return fail(`migration_policy.enabled must be true or false (got ${describe(enabled)})`)
  const price = value.get('max_price_per_second')
  if (price === undefined || price === null) return { enabled, maxPricePerSecond: null }
  const cap = price instanceof JsonNumber ? jsonNumberToBigInt(price) : null
  if (cap === null || cap < 0n || cap > I64_MAX) {
    return fail(`migration_policy.max_price_per_second must be an integer in 0 … ${I64_MAX} microcents (got ${describe(price)})`)
  }
  return { enabled, maxPricePerSecond: cap }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map
}

/** A short rendering of a JSON value for messages: numbers as written, strings quoted. */
function describe(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.text
  if (value instanceof Map) return 'an object'
  if (Array.isArray(value)) return 'an array'
  return JSON.stringify(value)
}
