import { describe, expect, it } from 'vitest'
import { ModuleError } from '../errors.js'
import { EMPTY_MANIFEST, parseManifest } from './manifest.js'

function http(options: string): ReturnType<typeof parseManifest>['http'] {
  return parseManifest(`{"capabilities": {"http": {"version": 1${options === '' ? '' : `, "options": ${options}`}}}}`, { source: 'm.json' }).http
}

function refusal(options: string): string {
  try {
    http(options)
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleError)
    expect((error as ModuleError).code).toBe('MANIFEST_INVALID')
    return (error as Error).message
  }
  throw new Error('expected a refusal')
}

describe('capabilities.http.options (SPEC §13)', () => {
  it('reads the SPEC example', () => {
    expect(http('{"allowed_hosts": ["api.example.com"], "timeout_ms": 10000, "max_response_bytes": 1048576}'))
      .toEqual({ allowedHosts: ['api.example.com'], timeoutMs: 10000, maxResponseBytes: 1048576 })
  })

  it('defaults: nothing allowed, 10 s, 1 MiB; no http declared → null', () => {
    expect(http('')).toEqual({ allowedHosts: [], timeoutMs: 10_000, maxResponseBytes: 1_048_576 })
    expect(http('{}')).toEqual({ allowedHosts: [], timeoutMs: 10_000, maxResponseBytes: 1_048_576 })
    expect(http('{"allowed_hosts": []}')?.allowedHosts).toEqual([])
    expect(parseManifest('{"capabilities": {"log": {"version": 1}}}', { source: 'm' }).http).toBeNull()
    expect(EMPTY_MANIFEST.http).toBeNull()
  })

  it('lower-cases hosts, ignores non-string ones, truncates numbers toward zero', () => {
    expect(http('{"allowed_hosts": ["API.Example.COM", 7, null, {"a": 1}, "x.test", "api.example.com"], "timeout_ms": 2500.9, "max_response_bytes": 4096.99}'))
      .toEqual({ allowedHosts: ['api.example.com', 'x.test'], timeoutMs: 2500, maxResponseBytes: 4096 })
  })

  it.each([
    ['{"timeout_ms": 0}', 'capabilities.http.options.timeout_ms must be greater than 0 (got 0)'],
    ['{"timeout_ms": -5}', 'timeout_ms must be greater than 0 (got -5)'],
    ['{"timeout_ms": 0.5}', 'timeout_ms must be greater than 0 (got 0.5)'],
    ['{"max_response_bytes": -1}', 'max_response_bytes must be greater than 0 (got -1)'],
    ['{"max_response_bytes": "big"}', 'max_response_bytes must be a number (got "big")'],
    ['{"timeout_ms": 15001}', 'timeout_ms 15001 exceeds the limit 15000'],
    ['{"max_response_bytes": 67108865}', 'max_response_bytes 67108865 exceeds the limit 67108864'],
    ['{"allowed_hosts": "api.example.com"}', 'allowed_hosts must be an array of host names (got "api.example.com")'],
    ['[1]', 'capabilities.http.options must be an object (got an array)']
  ])('refuses %s', (options, message) => {
    expect(refusal(options)).toContain(message)
  })
})
