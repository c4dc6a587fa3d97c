import { readlinkSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sampleThread, starvedDuring } from './thread-stats.js'

const MS = 1_000_000n

describe('starvation probe (SPEC §11 deadlines on a loaded machine)', () => {
  const probe = 20n * MS
  it('starved: waited to run most of the probe and ran under 1 ms', () => {
    expect(starvedDuring({ cpuNs: 0n, waitNs: 0n }, { cpuNs: 500_000n, waitNs: 15n * MS }, probe)).toBe(true)
  })
  it('running: got CPU and did not answer', () => {
    expect(starvedDuring({ cpuNs: 0n, waitNs: 0n }, { cpuNs: 5n * MS, waitNs: 15n * MS }, probe)).toBe(false)
  })
  it('sleeping or stuck: neither ran nor waited', () => {
    expect(starvedDuring({ cpuNs: 7n, waitNs: 9n }, { cpuNs: 7n, waitNs: 9n }, probe)).toBe(false)
  })
  it('reads the scheduler statistics of a thread of this process (Linux), null for an unknown one', () => {
    const tid = BigInt(/\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))![1]!)
    const sample = sampleThread(tid)
    expect(sample?.cpuNs).toBeGreaterThan(0n)
    expect(sampleThread(0n)).toBeNull()
    expect(sampleThread(999_999_999n)).toBeNull()
  })
})
