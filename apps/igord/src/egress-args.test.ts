import { describe, expect, it } from 'vitest'
import { parseCommand, UsageError } from './args.js'

// SPEC §13 "The node's egress policy": the flags, checked before anything starts.
describe('egress flags', () => {
  it('defaults: no extra rules, 20 requests per second, http for the node\'s own agents only', () => {
    expect(parseCommand([])).toMatchObject({
      kind: 'start', httpAllow: [], httpDeny: [], httpRate: 20,
      capabilities: ['clock', 'rand', 'log', 'wallet', 'pricing', 'http', 'x402', 'mobility'],
      arrivalCapabilities: ['clock', 'rand', 'log', 'wallet', 'pricing', 'x402', 'mobility']
    })
  })

  it('--http-allow / --http-deny: repeatable, comma lists, CIDRs, addresses and host patterns', () => {
    const command = parseCommand(['--http-allow', '127.0.0.1/32, 10.0.0.0/8', '--http-allow', 'localhost', '--http-deny', '*.evil.test,fd00::/8'])
    expect(command).toMatchObject({ httpAllow: ['127.0.0.1/32', '10.0.0.0/8', 'localhost'], httpDeny: ['*.evil.test', 'fd00::/8'] })
    expect(parseCommand(['run', 'a.wasm', '--http-allow', '::1', '--http-rate', '5'])).toMatchObject({ httpAllow: ['::1'], httpRate: 5 })
  })

  it('bad entries and rates are refused with the flag named', () => {
    expect(() => parseCommand(['--http-allow', '10.0.0.1/8'])).toThrow(/^--http-allow: "10.0.0.1\/8" has host bits set/)
    expect(() => parseCommand(['--http-deny', 'http://x'])).toThrow(UsageError)
    for (const bad of ['0', '-1', '1.5', 'x']) expect(() => parseCommand(['--http-rate', bad])).toThrow(/--http-rate/)
  })

  it('--capabilities: http reaches arrivals only as http+arrivals', () => {
    expect(parseCommand(['--capabilities', 'clock,http'])).toMatchObject({ capabilities: ['clock', 'http'], arrivalCapabilities: ['clock'] })
    expect(parseCommand(['--capabilities', 'clock,http+arrivals'])).toMatchObject({ capabilities: ['clock', 'http'], arrivalCapabilities: ['clock', 'http'] })
    expect(parseCommand(['--capabilities', 'log+arrivals'])).toMatchObject({ capabilities: ['log'], arrivalCapabilities: ['log'] })
    expect(() => parseCommand(['--capabilities', 'http+everyone'])).toThrow(/only suffix is \+arrivals/)
    expect(() => parseCommand(['--capabilities', 'ftp'])).toThrow(/unknown capability/)
  })
})
