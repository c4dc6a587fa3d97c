// SPEC §12 (issue 21 item 2): an imported history is written whole, refused over one already here, and undone.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodePrunedMarker, parseHistorySegment } from '@igor/checkpoint-codec'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { restoreImportedHistory } from './history-restore.js'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'igor-restore-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const history = { checkpoints: [{ tick: 7n, bytes: Uint8Array.of(1, 2, 3) }, { tick: 2n ** 64n - 1n, bytes: Uint8Array.of(4) }], prunedAnchor: 7n }

describe('restoreImportedHistory', () => {
  it('writes pruned.json and one segment holding every checkpoint; undo removes them and the directory', async () => {
    const undo = await restoreImportedHistory(dir, 'a', history, 0)
    const agentDir = join(dir, 'history', 'a')
    expect((await readdir(agentDir)).sort()).toEqual(['pruned.json', 'seg-0000000007.hist'])
    expect(decodePrunedMarker(await readFile(join(agentDir, 'pruned.json'), 'utf8'))?.anchorTick).toBe(7n)
    const parsed = parseHistorySegment(new Uint8Array(await readFile(join(agentDir, 'seg-0000000007.hist'))))
    expect(parsed.corrupt).toBeNull()
    expect(parsed.tornTail).toBeNull()
    expect(parsed.records.map((r) => [...r.payload])).toEqual([[1, 2, 3], [4]])
    await undo()
    expect(await readdir(join(dir, 'history'))).toEqual([])
  })

  it('refuses (AGENT_EXISTS) when the node holds history of the agent, writing nothing', async () => {
    await restoreImportedHistory(dir, 'a', { ...history, prunedAnchor: null }, 0)
    const before = await readdir(join(dir, 'history', 'a'))
    await expect(restoreImportedHistory(dir, 'a', { checkpoints: [{ tick: 0n, bytes: Uint8Array.of(9) }], prunedAnchor: 0n }, 0)).rejects.toMatchObject({ code: 'AGENT_EXISTS' })
    expect(await readdir(join(dir, 'history', 'a'))).toEqual(before)
  })
})
