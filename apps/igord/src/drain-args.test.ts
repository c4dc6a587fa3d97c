// SPEC §16 `igord drain` command line.
import { describe, expect, it } from 'vitest'
import { UsageError, parseCommand } from './args.js'

describe('igord drain arguments (SPEC §16)', () => {
  it('defaults: --to auto, 10m, 4 at a time', () => {
    expect(parseCommand(['drain', '--data-dir', 'd'])).toEqual({ kind: 'drain', dataDir: 'd', to: 'auto', timeoutMs: 600_000, concurrency: 4, json: false })
  })

  it('takes an address, a duration, a concurrency and --json', () => {
    expect(parseCommand(['drain', '--to', '/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWx', '--timeout', '1m30s', '--concurrency', '16', '--json'])).toMatchObject({
      to: '/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWx', timeoutMs: 90_000, concurrency: 16, json: true
    })
  })

  it('refuses bad values with one line', () => {
    expect(() => parseCommand(['drain', '--to', 'elsewhere'])).toThrow(/^--to must be auto or a multiaddr/)
    expect(() => parseCommand(['drain', '--concurrency', '0'])).toThrow(UsageError)
    expect(() => parseCommand(['drain', '--concurrency', '65'])).toThrow('--concurrency: must be at most 64, got 65')
    expect(() => parseCommand(['drain', '--timeout', '0s'])).toThrow('--timeout must be more than 0')
    expect(() => parseCommand(['drain', 'extra'])).toThrow(/unexpected argument/)
  })
})
