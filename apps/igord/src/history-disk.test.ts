// SPEC §12 history disk guard (ours, issue 21): `--history-min-free` parsing,
// the test-only `IGOR_TEST_STATFS_FREE` probe, and `igord status`'s line.
import { describe, expect, it } from 'vitest'
import { parseCommand } from './args.js'
import { diskShortField, testStatfsProbe } from './history-disk.js'
import { parseHistoryMinFree } from './size.js'
import { renderStatusText } from './status-format.js'

describe('--history-min-free', () => {
  it('takes auto, off, a percentage or a size; 0 is off', () => {
    expect(parseHistoryMinFree('auto')).toEqual({ kind: 'auto' })
    expect(parseHistoryMinFree('off')).toEqual({ kind: 'off' })
    expect(parseHistoryMinFree('0')).toEqual({ kind: 'off' })
    expect(parseHistoryMinFree('5%')).toEqual({ kind: 'percent', percent: 5 })
    expect(parseHistoryMinFree('12.5%')).toEqual({ kind: 'percent', percent: 12.5 })
    expect(parseHistoryMinFree('20GiB')).toEqual({ kind: 'bytes', bytes: 20 * 1024 ** 3 })
    expect(parseHistoryMinFree('4096')).toEqual({ kind: 'bytes', bytes: 4096 })
  })

  it('refuses anything else with one line naming the forms', () => {
    for (const bad of ['0%', '100%', '150%', '-1%', '5 %x', 'lots', '20GB', '']) expect(() => parseHistoryMinFree(bad)).toThrow(RangeError)
    expect(() => parseHistoryMinFree('20GB')).toThrow('must be auto, off, a percentage of the filesystem like 5% or a size like 20GiB, got "20GB"')
    expect(() => parseHistoryMinFree('100%')).toThrow('a percentage must be above 0 and below 100, got "100%"')
  })

  it('is a start flag, auto by default', () => {
    expect(parseCommand(['run', 'a.wasm'])).toMatchObject({ historyMinFree: { kind: 'auto' } })
    expect(parseCommand(['run', 'a.wasm', '--history-min-free', '10%'])).toMatchObject({ historyMinFree: { kind: 'percent', percent: 10 } })
    expect(() => parseCommand(['run', 'a.wasm', '--history-min-free', 'lots'])).toThrow(/--history-min-free/)
  })
})

describe('IGOR_TEST_STATFS_FREE (test-only)', () => {
  it('is read only when set: the guard then sees that many bytes free, the rest of statfs as it is', async () => {
    expect(testStatfsProbe({})).toEqual({})
    expect(testStatfsProbe({ IGOR_TEST_STATFS_FREE: '' })).toEqual({})
    const probe = testStatfsProbe({ IGOR_TEST_STATFS_FREE: String(64 * 1024) }).historyDiskStatfs!
    const fs = await probe(process.cwd())
    expect(fs.bavail * fs.bsize).toBe(64 * 1024)
    expect(fs.blocks).toBeGreaterThan(0)
    expect(() => testStatfsProbe({ IGOR_TEST_STATFS_FREE: 'x' })).toThrow(/IGOR_TEST_STATFS_FREE must be a whole number of bytes/)
  })
})

describe('igord status: disk short', () => {
  it('says so in the node section while the guard has nothing left to prune', () => {
    expect(diskShortField(null)).toEqual({})
    const field = diskShortField({ freeBytes: 1000, watermarkBytes: 13_200_000_000, sinceMs: Date.UTC(2026, 0, 2, 3, 4, 5) })
    expect(field).toEqual({ diskShort: { freeBytes: '1000', watermarkBytes: '13200000000', since: '2026-01-02T03:04:05.000Z' } })
    const text = renderStatusText({ node: { peerId: null, addresses: [], pricePerSecond: '1000', ...field }, agents: [] })
    expect(text).toContain('\ndisk short: 1000 bytes free, below --history-min-free (13200000000) since 2026-01-02T03:04:05.000Z; every agent\'s history is down to its newest segment\n')
  })
})
