import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GENESIS_PREV_HASH, checkpointContentHash, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import type { HistoryFile } from '../index.js'
import { findForks, renderLineageReport, verifyHistoryDirs } from '../index.js'

const KEY = AgentIdentity.fromSeed(new Uint8Array(32).fill(3))
const name = (tick: bigint): string => `${tick.toString().padStart(10, '0')}.ckpt`

/** Checkpoints at `ticks`, chained from `prev`, at `epoch`; labelled with `dir`. */
function chain(dir: string, ticks: readonly bigint[], epoch: Epoch, prev: Uint8Array = GENESIS_PREV_HASH, state = 0): HistoryFile[] {
  return ticks.map((tick) => {
    const bytes = encodeSignedCheckpoint({ budget: 1000n, pricePerSecond: 1n, tickNumber: tick, wasmHash: new Uint8Array(32).fill(0xaa), epoch, leaseExpiry: 0n, state: Uint8Array.of(Number(tick), state) }, prev, KEY)
    prev = checkpointContentHash(bytes)
    return { name: name(tick), path: `${dir}/${name(tick)}`, bytes }
  })
}

const prevOf = (file: HistoryFile): Uint8Array => (file.bytes as Uint8Array).subarray(81, 113)

describe('findForks (SPEC §12: verify names a fork)', () => {
  it('a copy resumed beside its live original: both sides went on from tick 3', () => {
    const a = chain('A', [1n, 2n, 3n, 4n, 5n], new Epoch(1n, 0n))
    // B took A's tick 3 and started a new epoch at the same tick (it takes tick 3's place), then ticked on.
    const b = chain('B', [3n, 4n], new Epoch(2n, 0n), prevOf(a[2] as HistoryFile), 1)
    expect(findForks([a, b])).toEqual(['fork at tick 3: A/0000000003.ckpt and B/0000000003.ckpt'])
  })

  it('a hand-off is no fork: the source\'s last checkpoint is replaced at the same tick and never continued', () => {
    const a = chain('A', [1n, 2n, 3n], new Epoch(1n, 0n))
    const b = chain('B', [3n, 4n, 5n], new Epoch(2n, 0n), prevOf(a[2] as HistoryFile), 1)
    expect(findForks([a, b])).toEqual([])
    // The same checkpoint in two directories is one checkpoint.
    expect(findForks([a, a])).toEqual([])
  })

  it('two checkpoints with one prevHash at different ticks are a fork even with no successor', () => {
    const a = chain('A', [1n, 2n], new Epoch(1n, 0n))
    const b = chain('B', [7n], new Epoch(1n, 0n), prevOf(a[1] as HistoryFile), 1)
    expect(findForks([a, b])).toEqual(['fork at tick 2: A/0000000002.ckpt and B/0000000007.ckpt'])
  })

  it('verifyHistoryDirs reports it as INVALID, naming the files by directory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'igor-forks-'))
    const a = chain(join(root, 'A'), [1n, 2n, 3n, 4n], new Epoch(1n, 0n))
    const b = chain(join(root, 'B'), [2n, 3n], new Epoch(2n, 0n), prevOf(a[1] as HistoryFile), 1)
    for (const [dir, files] of [['A', a], ['B', b]] as const) {
      await mkdir(join(root, dir))
      for (const file of files) await writeFile(join(root, dir, file.name), file.bytes as Uint8Array)
    }
    const result = await verifyHistoryDirs([join(root, 'A'), join(root, 'B')])
    expect(result.valid).toBe(false)
    expect(result.errors).toContain(`fork at tick 2: ${join(root, 'A', name(2n))} and ${join(root, 'B', name(2n))}`)
    expect(renderLineageReport(result)).toContain(`\n  - fork at tick 2: ${join(root, 'A', name(2n))} and ${join(root, 'B', name(2n))}\n`)
  })
})
