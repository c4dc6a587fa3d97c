import { describe, expect, it } from 'vitest'
import { ModuleError } from '../errors.js'
import { CAPABILITIES, CAPABILITY_IMPORTS, capabilityForImport } from './capabilities.js'
import { EMPTY_MANIFEST, NODE_MEMORY_LIMIT_BYTES, parseManifest } from './manifest.js'

const SOURCE = 'agents/x.manifest.json'

function parse(text: string, nodeMemoryLimitBytes?: number): ReturnType<typeof parseManifest> {
  return parseManifest(text, nodeMemoryLimitBytes === undefined ? { source: SOURCE } : { source: SOURCE, nodeMemoryLimitBytes })
}

function refusal(text: string | Uint8Array): ModuleError {
  try {
    parseManifest(text, { source: SOURCE })
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleError)
    return error as ModuleError
  }
  throw new Error('expected a refusal')
}

describe('capabilities', () => {
  it('maps each capability to its igor import', () => {
    expect(CAPABILITIES).toEqual(['clock', 'rand', 'log', 'wallet', 'pricing', 'http', 'x402', 'mobility'])
    expect(CAPABILITY_IMPORTS).toEqual({ clock: 'clock_now', rand: 'rand_bytes', log: 'log_emit', wallet: 'wallet_balance', pricing: 'node_price', http: 'http_request', x402: 'wallet_pay', mobility: 'request_move' })
    expect(capabilityForImport('node_price')).toBe('pricing')
    expect(capabilityForImport('log_emit')).toBe('log')
    expect(capabilityForImport('gps_read')).toBeUndefined()
  })
})

describe('parseManifest', () => {
  it('reads the full SPEC §5 example', () => {
    const text = `{
      "capabilities": {"clock": {"version": 1}, "rand": {"version": 1}, "log": {"version": 1}, "wallet": {"version": 1}},
      "resource_limits": {"max_memory_bytes": 33554432},
      "migration_policy": {"enabled": false, "max_price_per_second": 9223372036854775807}
    }`
    const manifest = parse(text)
    expect([...manifest.capabilities.keys()]).toEqual(['clock', 'rand', 'log', 'wallet'])
    expect(manifest.capabilities.get('clock')).toEqual({ version: 1 })
    expect(manifest.maxMemoryBytes).toBe(33554432)
    expect(manifest.migration).toEqual({ enabled: false, maxPricePerSecond: 9223372036854775807n })
    expect(manifest.source).toBe(SOURCE)
    expect(new TextDecoder().decode(manifest.raw)).toBe(text)
    expect(Object.isFrozen(manifest)).toBe(true)
  })

  it.each([
    ['0', 0n], ['9007199254740993', 9007199254740993n], ['9223372036854775807', (1n << 63n) - 1n], ['1e6', 1_000_000n]
  ])('reads max_price_per_second %s exactly', (text, value) => {
    expect(parse(`{"migration_policy": {"max_price_per_second": ${text}}}`).migration.maxPricePerSecond).toBe(value)
  })

  it('defaults: no capabilities, node memory limit, migration enabled with no price cap', () => {
    const manifest = parse('{}')
    expect(manifest.capabilities.size).toBe(0)
    expect(manifest.maxMemoryBytes).toBeNull()
    expect(manifest.migration).toEqual({ enabled: true, maxPricePerSecond: null })
    expect(parse('{"migration_policy": {}}').migration).toEqual({ enabled: true, maxPricePerSecond: null })
    expect(parse('{"migration_policy": {"enabled": false}}').migration).toEqual({ enabled: false, maxPricePerSecond: null })
    expect(parse('{"capabilities": null, "resource_limits": null, "migration_policy": null}').migration.enabled).toBe(true)
  })

  it('EMPTY_MANIFEST has the same defaults, empty raw bytes and no source', () => {
    expect(EMPTY_MANIFEST.capabilities.size).toBe(0)
    expect(EMPTY_MANIFEST.maxMemoryBytes).toBeNull()
    expect(EMPTY_MANIFEST.migration).toEqual({ enabled: true, maxPricePerSecond: null })
    expect(EMPTY_MANIFEST.raw.length).toBe(0)
    expect(EMPTY_MANIFEST.source).toBeNull()
  })

  it('ignores unknown keys (forward compatible)', () => {
    const manifest = parse('{"name": "x", "capabilities": {"log": {"version": 1, "note": "y"}}, "resource_limits": {"max_cpu": 3}, "future": [1]}')
    expect([...manifest.capabilities.keys()]).toEqual(['log'])
    expect(manifest.maxMemoryBytes).toBeNull()
  })

  it('accepts bytes with a UTF-8 BOM and a string with one', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"capabilities": {"clock": {"version": 1}}}')])
    expect(parseManifest(bytes, { source: SOURCE }).capabilities.has('clock')).toBe(true)
    expect(parseManifest(bytes, { source: SOURCE }).raw).toEqual(bytes)
    expect(parse('\uFEFF{}').capabilities.size).toBe(0)
  })

  it('accepts a memory limit equal to the node limit and honours a custom node limit', () => {
    expect(parse(`{"resource_limits": {"max_memory_bytes": ${NODE_MEMORY_LIMIT_BYTES}}}`).maxMemoryBytes).toBe(NODE_MEMORY_LIMIT_BYTES)
    expect(() => parse('{"resource_limits": {"max_memory_bytes": 1048576}}', 65536)).toThrow('exceeds the node limit 65536')
  })

  it.each([
    ['{"capabilities": {"clock": {"version": 0}}}', 'capabilities.clock.version must be an integer ≥ 1 (got 0)'],
    ['{"capabilities": {"clock": {"version": -1}}}', 'capabilities.clock.version must be an integer ≥ 1 (got -1)'],
    ['{"capabilities": {"clock": {"version": 1.5}}}', 'capabilities.clock.version must be an integer ≥ 1 (got 1.5)'],
    ['{"capabilities": {"clock": {"version": "1"}}}', 'capabilities.clock.version must be an integer ≥ 1 (got "1")'],
    ['{"capabilities": {"clock": {}}}', 'capabilities.clock.version is missing'],
    ['{"capabilities": {"clock": {"version": 2}}}', 'capabilities.clock.version 2 is not supported (this node provides version 1)'],
    ['{"capabilities": {"clock": true}}', 'capabilities.clock must be an object like {"version": 1} (got true)'],
    ['{"capabilities": {"gps": {"version": 1}}}', 'unknown capability "gps" (known: clock, rand, log, wallet, pricing, http, x402, mobility)'],
    ['{"capabilities": ["clock"]}', 'capabilities must be an object (got an array)'],
    ['{"resource_limits": {"max_memory_bytes": 100000000}}', 'resource_limits.max_memory_bytes 100000000 exceeds the node limit 67108864'],
    ['{"resource_limits": {"max_memory_bytes": 1e30}}', 'resource_limits.max_memory_bytes 1e30 exceeds the node limit 67108864'],
    ['{"resource_limits": {"max_memory_bytes": 1000}}', 'resource_limits.max_memory_bytes must be at least 65536, one WebAssembly page (got 1000)'],
    ['{"resource_limits": {"max_memory_bytes": -65536}}', 'resource_limits.max_memory_bytes must be at least 65536'],
    ['{"resource_limits": {"max_memory_bytes": 65536.5}}', 'resource_limits.max_memory_bytes must be an integer (got 65536.5)'],
    ['{"resource_limits": {"max_memory_bytes": "64MiB"}}', 'resource_limits.max_memory_bytes must be an integer (got "64MiB")'],
    ['{"resource_limits": 5}', 'resource_limits must be an object (got 5)'],
    ['{"migration_policy": {"enabled": "yes"}}', 'migration_policy.enabled must be true or false (got "yes")'],
    ['{"migration_policy": {"max_price_per_second": -1}}', 'migration_policy.max_price_per_second must be an integer in 0 … 9223372036854775807 microcents (got -1)'],
    ['{"migration_policy": {"max_price_per_second": 9223372036854775808}}', '(got 9223372036854775808)'],
    ['{"migration_policy": {"max_price_per_second": 0.5}}', '(got 0.5)'],
    ['{"migration_policy": []}', 'migration_policy must be an object (got an array)'],
    ['[]', 'must be a JSON object (got an array)'],
    ['"x"', 'must be a JSON object (got "x")'],
    ['{"capabilities": ', 'not valid JSON (unexpected end of input)'],
    ['{"capabilities": {"clock": {"version": 1}, "clock": {"version": 1}}}', 'not valid JSON (duplicate key "clock" at line 1 column 44)'],
    ['', 'not valid JSON (unexpected end of input)']
  ])('refuses %s', (text, message) => {
    const error = refusal(text)
    expect(error.code).toBe('MANIFEST_INVALID')
    expect(error.message.startsWith(`manifest ${SOURCE}: `)).toBe(true)
    expect(error.message).toContain(message)
    expect(error.message).not.toContain('\n')
  })

  it('refuses bytes that are not UTF-8', () => {
    expect(refusal(new Uint8Array([0x7b, 0xff, 0x7d])).message).toBe(`manifest ${SOURCE}: not valid UTF-8`)
  })
})
