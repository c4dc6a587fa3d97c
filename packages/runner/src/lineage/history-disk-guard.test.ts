// SPEC §12 history stays verifiable, §5 checkpoints untouched (ours, issue 21
// "done means"): the node-wide history disk guard with a fake free-space probe
// and real segment files — oldest first across agents, newest kept, markers
// before deletion, a crash between the two, a live archive pruning after it.
import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PRUNED_MARKER, decodePrunedMarker, encodePrunedMarker, segmentFileName } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { renderLineageReport, verifyHistoryDirs } from '@igor/inspector'
import { recordingLogger, tempDir } from '@igor/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AgentLineage } from './agent-lineage.js'
import { HistoryArchive, type HistoryOptions } from './history.js'
import { HistoryDiskGuard, type HistoryMinFree, historyMinFreeBytes } from './history-disk-guard.js'

const HOUR = 3_600_000
const MiB = 1024 * 1024

let dir: { path: string, remove: () => Promise<void> }
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await dir.remove() })

class Clock {
  ms = 1_700_000_000_000
  readonly now = (): number => this.ms
}

/** One signed agent whose history segments roll hourly on the fake clock. */
function agent(id: string, clock: Clock, options: HistoryOptions = {}): AgentLineage {
  return new AgentLineage(AgentIdentity.generate(), null, new HistoryArchive(dir.path, id, { nowMs: clock.now, keep: { kind: 'all' }, ...options }))
}

async function write(lineage: AgentLineage, tick: bigint, size = 64): Promise<void> {
  await lineage.archive(lineage.seal({ budget: 1n, pricePerSecond: 1n, tickNumber: tick, wasmHash: new Uint8Array(32), epoch: new Epoch(1n, 0n), leaseExpiry: 0n, state: new Uint8Array(size).fill(Number(tick % 256n)) }))
}

/**
 * Agents a, b, c; three segments each (first ticks 0, 3, 6), started in the
 * order a0 b0 c0 a3 b3 c3 a6 b6 c6, an hour apart.
 */
async function threeAgents(clock: Clock): Promise<Record<'a' | 'b' | 'c', AgentLineage>> {
  const base = clock.ms
  const agents = { a: agent('a', clock), b: agent('b', clock), c: agent('c', clock) }
  for (let round = 0; round < 3; round++) {
    for (const [offset, lineage] of [agents.a, agents.b, agents.c].entries()) {
      clock.ms = base + (3 * round + offset) * HOUR
      for (let i = 0; i < 3; i++) await write(lineage, BigInt(3 * round + i))
    }
  }
  return agents
}

const historyDir = (id: string): string => join(dir.path, 'history', id)
const segmentsOf = async (id: string): Promise<string[]> => (await readdir(historyDir(id))).filter((n) => n.endsWith('.hist')).sort()
const anchorOf = async (id: string): Promise<bigint | null> => decodePrunedMarker(await readFile(join(historyDir(id), PRUNED_MARKER), 'utf8').catch(() => '{}'))?.anchorTick ?? null
const blocksOf = async (id: string, name: string): Promise<number> => {
  const st = await stat(join(historyDir(id), name))
  return st.blocks > 0 ? st.blocks * 512 : st.size
}

/** A probe: a filesystem of 1 TB with `free()` bytes free (bsize 1). */
const probe = (free: () => number) => () => Promise.resolve({ bsize: 1, blocks: 1e12, bavail: free() })

async function expectValidFrom(id: string, tick: bigint): Promise<void> {
  const result = await verifyHistoryDirs([historyDir(id)])
  if (!result.valid) throw new Error(renderLineageReport(result))
  expect(result.prunedFrom).toBe(tick)
}

describe('HistoryDiskGuard', () => {
  it('prunes the globally oldest segments across agents until free space is back above the watermark plus a quarter', async () => {
    const clock = new Clock()
    await threeAgents(clock)
    // Exactly the four oldest (a0 b0 c0 a3) must go to reach 1.25 × the watermark.
    const four = (await Promise.all([['a', segmentFileName(0n)], ['b', segmentFileName(0n)], ['c', segmentFileName(0n)], ['a', segmentFileName(3n)]]
      .map(async ([id, name]) => blocksOf(id!, name!)))).reduce((s, n) => s + n, 0)
    const watermark = 40_000 // a quarter of it is less than the four files: free starts below the watermark
    const free = watermark + watermark / 4 - (four - 1)
    const pruned: number[][] = []
    const log = recordingLogger()
    const guard = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'bytes', bytes: watermark }, minFreeDiskBytes: 0, statfs: probe(() => free), log, nowMs: clock.now, onPrune: (...args) => pruned.push(args) })
    const round = await guard.check()
    expect(round).toMatchObject({ freeBytes: free, watermarkBytes: watermark, prunedFiles: 4, agents: 3, short: false })
    expect(await segmentsOf('a')).toEqual([segmentFileName(6n)])
    expect(await segmentsOf('b')).toEqual([segmentFileName(3n), segmentFileName(6n)])
    expect(await segmentsOf('c')).toEqual([segmentFileName(3n), segmentFileName(6n)])
    expect([await anchorOf('a'), await anchorOf('b'), await anchorOf('c')]).toEqual([6n, 3n, 3n])
    await expectValidFrom('a', 6n)
    await expectValidFrom('b', 3n)
    await expectValidFrom('c', 3n)
    expect(pruned).toEqual([[round!.prunedBytes, 4, 3]])
    expect(log.lines.filter((l) => l.msg.startsWith('history pruned to keep free disk'))).toHaveLength(1)
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([])
  })

  it('above the watermark it only probes; off does nothing at all', async () => {
    const clock = new Clock()
    await threeAgents(clock)
    const quiet = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'bytes', bytes: MiB }, minFreeDiskBytes: 0, statfs: probe(() => MiB), nowMs: clock.now })
    expect(await quiet.check()).toMatchObject({ prunedFiles: 0, short: false })
    let probed = 0
    const off = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'off' }, minFreeDiskBytes: 0, statfs: () => { probed++; return Promise.resolve({ bsize: 1, blocks: 1, bavail: 0 }) } })
    expect(await off.check()).toBeNull()
    expect(probed).toBe(0)
    for (const id of ['a', 'b', 'c']) expect(await segmentsOf(id)).toHaveLength(3)
  })

  it('never deletes an agent\'s newest segment: short of space with nothing left, it says so once and the agents keep writing', async () => {
    const clock = new Clock()
    const agents = await threeAgents(clock)
    const log = recordingLogger()
    const guard = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'percent', percent: 50 }, minFreeDiskBytes: 0, statfs: probe(() => 1000), log, nowMs: clock.now })
    const round = await guard.check()
    expect(round).toMatchObject({ prunedFiles: 6, agents: 3, short: true, watermarkBytes: 5e11 })
    for (const id of ['a', 'b', 'c']) {
      expect(await segmentsOf(id)).toEqual([segmentFileName(6n)])
      await expectValidFrom(id, 6n)
    }
    expect(guard.shortage).toMatchObject({ freeBytes: 1000, watermarkBytes: 5e11 })
    // No segment rolled since: the next rounds do not walk the directories and do not warn again.
    expect(await guard.check()).toMatchObject({ prunedFiles: 0, short: true })
    // Checkpoints go on; a roll makes the previous newest prunable, and the next round takes it.
    clock.ms += 10 * HOUR
    await write(agents.a, 9n)
    guard.poke()
    expect(await guard.check()).toMatchObject({ prunedFiles: 1, agents: 1, short: true })
    expect(await segmentsOf('a')).toEqual([segmentFileName(9n)])
    await expectValidFrom('a', 9n)
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1)
    expect(log.lines.find((l) => l.level === 'warn')?.msg).toMatch(/every agent's history is down to its newest segment: each agent starts a new segment .*checkpoints go on/)
  })

  it('short with nothing left: each agent rolls at its next write (no hour to wait), so the next round prunes again — history shrinks to about a round', async () => {
    const clock = new Clock()
    const agents = await threeAgents(clock)
    const guard = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'percent', percent: 50 }, minFreeDiskBytes: 0, statfs: probe(() => 1000), nowMs: clock.now })
    expect(await guard.check()).toMatchObject({ prunedFiles: 6, short: true })
    // A minute later (the segments' hour is far from over), every agent's next checkpoint starts a new segment.
    clock.ms += 60_000
    for (const [i, lineage] of [agents.a, agents.b, agents.c].entries()) await write(lineage, BigInt(20 + i))
    for (const [i, id] of ['a', 'b', 'c'].entries()) expect(await segmentsOf(id)).toEqual([segmentFileName(6n), segmentFileName(BigInt(20 + i))])
    // A second write goes into the new segment: one roll per request, not one per write.
    await write(agents.a, 30n)
    expect(await segmentsOf('a')).toHaveLength(2)
    guard.poke()
    expect(await guard.check()).toMatchObject({ prunedFiles: 3, agents: 3, short: true })
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      expect(await segmentsOf(id)).toEqual([segmentFileName(BigInt(20 + i))])
      await expectValidFrom(id, BigInt(20 + i))
    }
  })

  it('leaves an agent that is busy (an arrival in progress) alone', async () => {
    const clock = new Clock()
    await threeAgents(clock)
    const guard = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'bytes', bytes: MiB }, minFreeDiskBytes: 0, statfs: probe(() => 0), skip: (id) => id === 'b', nowMs: clock.now })
    expect(await guard.check()).toMatchObject({ prunedFiles: 4, agents: 2 })
    expect(await segmentsOf('b')).toHaveLength(3)
    expect(await anchorOf('b')).toBeNull()
  })

  it('a crash after the marker and before the deletes leaves a longer history that still verifies; the next round finishes', async () => {
    const clock = new Clock()
    await threeAgents(clock)
    // The state a crash leaves: the marker names tick 6, the older segments are still there.
    await writeFile(join(historyDir('a'), PRUNED_MARKER), encodePrunedMarker({ anchorTick: 6n }, clock.ms))
    const before = await verifyHistoryDirs([historyDir('a')])
    expect(before.valid).toBe(true)
    expect(before.firstTick).toBe(0n)
    const guard = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'bytes', bytes: MiB }, minFreeDiskBytes: 0, statfs: probe(() => 0), nowMs: clock.now })
    await guard.check()
    expect(await segmentsOf('a')).toEqual([segmentFileName(6n)])
    await expectValidFrom('a', 6n)
  })

  it('a live archive that pruned nothing yet goes on writing after the guard, and its own quota pruning keeps the marker moving forward', async () => {
    const clock = new Clock()
    const a = agent('a', clock, { quotaBytes: 64 * 1024, segmentMaxBytes: 4096 })
    for (let tick = 0n; tick < 16n; tick++) await write(a, tick, 1000) // a new segment every 4 records
    const before = await segmentsOf('a')
    expect(before.length).toBeGreaterThan(2)
    const guard = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'bytes', bytes: MiB }, minFreeDiskBytes: 0, statfs: probe(() => 0), nowMs: clock.now })
    await guard.check()
    const guardAnchor = (await anchorOf('a'))!
    expect(await segmentsOf('a')).toEqual([before[before.length - 1]])
    // The archive's list still names the deleted files: its quota pruning must not move the marker back.
    for (let tick = 16n; tick < 200n; tick++) await write(a, tick, 1000)
    const anchor = (await anchorOf('a'))!
    expect(anchor).toBeGreaterThan(guardAnchor)
    await expectValidFrom('a', anchor)
    let bytes = 0
    for (const name of await segmentsOf('a')) bytes += (await stat(join(historyDir('a'), name))).size
    expect(bytes).toBeLessThanOrEqual(64 * 1024)
  })

  it('a segment roll pokes the guard (the node wires onRoll to it)', async () => {
    const clock = new Clock()
    let rolls = 0
    const a = agent('a', clock, { onRoll: () => { rolls++ } })
    await write(a, 0n)
    await write(a, 1n)
    clock.ms += HOUR
    await write(a, 2n)
    expect(rolls).toBe(2)
  })
})

describe('historyMinFreeBytes', () => {
  const GiB = 1024 * MiB
  it('auto is max(4 × --min-free-disk, 5 % of the filesystem); a size; a percentage; off', () => {
    const auto: HistoryMinFree = { kind: 'auto' }
    expect(historyMinFreeBytes(auto, 264e9, 256 * MiB)).toBe(13.2e9)
    expect(historyMinFreeBytes(auto, 10 * GiB, 256 * MiB)).toBe(GiB)
    expect(historyMinFreeBytes(auto, 0, 0)).toBe(0)
    expect(historyMinFreeBytes({ kind: 'bytes', bytes: 123 }, 264e9, 256 * MiB)).toBe(123)
    expect(historyMinFreeBytes({ kind: 'percent', percent: 12.5 }, 1000, 0)).toBe(125)
    expect(historyMinFreeBytes({ kind: 'off' }, 264e9, 256 * MiB)).toBe(0)
  })
})

describe('HistoryDiskGuard shutdown', () => {
  it('a stopped guard does not start a round, and stop() during a round stops after the agents in hand', async () => {
    const clock = new Clock()
    await threeAgents(clock)
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => { release = resolve })
    const guard = new HistoryDiskGuard({ checkpointsDir: dir.path, minFree: { kind: 'bytes', bytes: MiB }, minFreeDiskBytes: 0, statfs: async () => { await gate; return { bsize: 1, blocks: 1e12, bavail: 0 } }, nowMs: clock.now })
    const round = guard.check()
    const stopped = guard.stop()
    release()
    await stopped
    expect(await round).toMatchObject({ prunedFiles: 0 })
    for (const id of ['a', 'b', 'c']) expect(await segmentsOf(id)).toHaveLength(3)
    guard.start()
    guard.poke()
    expect(await segmentsOf('a')).toHaveLength(3)
  })
})
