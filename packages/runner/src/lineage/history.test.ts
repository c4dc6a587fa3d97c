import { readdir } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tempDir } from '@igor/test-kit'
import { HistoryArchive, historyFileName } from './history.js'

// SPEC §11 "Resources an agent controls": history and checkpoint within the agent's disk quota, oldest first.

let dir: { path: string, remove: () => Promise<void> }
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await dir.remove() })

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

describe('HistoryArchive quota', () => {
  it('keeps history plus the checkpoint under the quota, dropping the oldest files first', async () => {
    const pruned: Array<[number, number]> = []
    const history = new HistoryArchive(dir.path, 'a', { quotaBytes: 10_000, onPrune: (files, b) => pruned.push([files, b]) })
    for (let tick = 1n; tick <= 10n; tick++) await history.write(tick, bytes(1_000, Number(tick)))
    // 1 000 bytes a file, and the checkpoint counts as the newest again: at most 9 files.
    expect((await readdir(history.dir)).sort()).toEqual([2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n].map(historyFileName))
    expect(pruned).toEqual([[1, 1000]])
    expect(await history.usedBytes()).toBe(9_000)
    expect(await history.read(10n)).toEqual(bytes(1_000, 10))
  })

  it('a rewrite of the same tick replaces its size; the newest file stays even when it alone is over the quota', async () => {
    const history = new HistoryArchive(dir.path, 'a', { quotaBytes: 3_000 })
    await history.write(1n, bytes(1_000, 1))
    await history.write(1n, bytes(500, 2))
    expect(await history.usedBytes()).toBe(500)
    await history.write(2n, bytes(5_000, 3))
    expect(await readdir(history.dir)).toEqual([historyFileName(2n)])
  })

  it('counts what an earlier process left in the directory', async () => {
    const before = new HistoryArchive(dir.path, 'a')
    for (let tick = 1n; tick <= 5n; tick++) await before.write(tick, bytes(1_000, 1))
    const after = new HistoryArchive(dir.path, 'a', { quotaBytes: 4_000 })
    await after.write(6n, bytes(1_000, 6))
    expect((await readdir(after.dir)).sort()).toEqual([4n, 5n, 6n].map(historyFileName))
  })
})
