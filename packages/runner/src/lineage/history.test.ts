// SPEC §12 history segments (ours, issue 21 item 2) and SPEC §11 disk quota:
// append + fsync, torn tails, corruption, same-tick supersede, roll, retention, quota.
import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  PRUNED_MARKER, decodePrunedMarker, encodeCheckpoint, parseHistorySegment, readCheckpointHeader, segmentFileName
} from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { tempDir } from '@igor/test-kit'
import { HistoryArchive, forgetHistoryScans, historyFileName } from './history.js'
import { newestArchived } from './history-files.js'
import { parseHistoryKeep } from './history-retention.js'

let dir: { path: string, remove: () => Promise<void> }
beforeEach(async () => { dir = await tempDir() })
afterEach(async () => { await dir.remove() })

/** A checkpoint at `tick` with `size` state bytes of `fill` (epoch (1,gen)). */
const ckpt = (tick: bigint, size = 16, fill = 0, gen = 0n): Uint8Array => encodeCheckpoint({
  budget: 1n, pricePerSecond: 1n, tickNumber: tick, wasmHash: new Uint8Array(32), epoch: new Epoch(1n, gen), leaseExpiry: 0n, state: new Uint8Array(size).fill(fill)
})

const segments = async (h: HistoryArchive): Promise<string[]> => (await readdir(h.dir)).filter((n) => n.endsWith('.hist')).sort()

/** What a reader sees: every record of every segment in order, a later record for a tick replacing an earlier one. */
async function readBack(h: HistoryArchive): Promise<Map<bigint, Uint8Array>> {
  const out = new Map<bigint, Uint8Array>()
  for (const name of await segments(h)) {
    for (const record of parseHistorySegment(new Uint8Array(await readFile(join(h.dir, name)))).records) {
      out.set(readCheckpointHeader(record.payload).tickNumber, record.payload)
    }
  }
  return out
}

class FakeClock {
  constructor(public ms = 1_700_000_000_000) {}
  readonly now = (): number => this.ms
}

describe('HistoryArchive segments', () => {
  it('appends many checkpoints to one segment and reads them back; a later same-tick record supersedes the earlier one', async () => {
    const h = new HistoryArchive(dir.path, 'a', { keep: { kind: 'all' } })
    for (let tick = 1n; tick <= 50n; tick++) await h.write(tick, ckpt(tick))
    const renewed = ckpt(50n, 16, 9, 1n)
    await h.write(50n, renewed)
    expect(await segments(h)).toEqual([segmentFileName(1n)])
    const seen = await readBack(h)
    expect(seen.size).toBe(50)
    expect(seen.get(50n)).toEqual(renewed)
    expect(await h.read(50n)).toEqual(renewed)
    expect(await h.read(7n)).toEqual(ckpt(7n))
    expect(await h.read(99n)).toBeNull()
    expect(await newestArchived(h.dir)).toEqual(renewed)
  })

  it('a torn tail (kill -9 mid-append) is cut off at the next open; the next record follows the last whole one', async () => {
    const h = new HistoryArchive(dir.path, 'a')
    for (let tick = 1n; tick <= 3n; tick++) await h.write(tick, ckpt(tick))
    const path = join(h.dir, segmentFileName(1n))
    const whole = (await stat(path)).size
    await appendFile(path, Buffer.from([200, 0, 0, 0, 1, 2, 3])) // a record header promising 200 bytes, then the crash
    const reopened = new HistoryArchive(dir.path, 'a')
    await reopened.ready()
    expect((await stat(path)).size).toBe(whole)
    await reopened.write(4n, ckpt(4n))
    expect([...(await readBack(reopened)).keys()]).toEqual([1n, 2n, 3n, 4n])
  })

  it('a segment torn while being created is removed at the next open', async () => {
    const h = new HistoryArchive(dir.path, 'a')
    await h.write(1n, ckpt(1n))
    await writeFile(join(h.dir, segmentFileName(5n)), Buffer.from('IGORH'))
    const reopened = new HistoryArchive(dir.path, 'a')
    await reopened.ready()
    expect(await segments(reopened)).toEqual([segmentFileName(1n)])
  })

  it('a checksum mismatch before the end is never read as a record: the segment is left for the operator and writing goes on in a new one', async () => {
    const h = new HistoryArchive(dir.path, 'a')
    for (let tick = 1n; tick <= 3n; tick++) await h.write(tick, ckpt(tick))
    const path = join(h.dir, segmentFileName(1n))
    const bytes = await readFile(path)
    bytes[24 + 8 + 20] = bytes[24 + 8 + 20]! ^ 0xff // inside the first record's payload
    await writeFile(path, bytes)
    // A restart (a new process): nothing known of the files; in the same process a same-size rewrite is not re-read.
    forgetHistoryScans()
    const reopened = new HistoryArchive(dir.path, 'a')
    await reopened.write(4n, ckpt(4n))
    expect(await segments(reopened)).toEqual([segmentFileName(1n), segmentFileName(4n)])
    expect((await readFile(path)).equals(bytes)).toBe(true) // untouched
    const parsed = parseHistorySegment(new Uint8Array(bytes))
    expect(parsed.records).toHaveLength(0)
    expect(parsed.corrupt?.reason).toMatch(/checksum mismatch/)
  })

  it('an archive opened again in the same process (an agent coming back) reuses what the last one checked of the newest segment; a changed size is read again', async () => {
    const h = new HistoryArchive(dir.path, 'a')
    for (let tick = 1n; tick <= 2n; tick++) await h.write(tick, ckpt(tick))
    const path = join(h.dir, segmentFileName(1n))
    const bytes = await readFile(path)
    bytes[24 + 8 + 20] = bytes[24 + 8 + 20]! ^ 0xff // same size: not read again, so not seen
    await writeFile(path, bytes)
    const back = new HistoryArchive(dir.path, 'a')
    await back.write(3n, ckpt(3n))
    expect(await segments(back)).toEqual([segmentFileName(1n)])
    await writeFile(path, bytes.subarray(0, bytes.length - 3)) // another size: read whole again
    const again = new HistoryArchive(dir.path, 'a')
    await again.write(4n, ckpt(4n))
    expect(await segments(again)).toEqual([segmentFileName(1n), segmentFileName(4n)])
  })

  it('rolls to a new segment every hour: a day at the 5 s cadence is at most 24 files; names stay in write order', async () => {
    const clock = new FakeClock()
    const h = new HistoryArchive(dir.path, 'a', { nowMs: clock.now, keep: { kind: 'all' } })
    for (let tick = 0n; tick < 17_280n; tick++) {
      await h.write(tick, ckpt(tick, 4))
      clock.ms += 5000
    }
    expect((await segments(h)).length).toBe(24)
    // A lower tick at a roll (a forced resume of an older copy) still sorts after the newest segment.
    clock.ms += 3_600_000
    await h.write(3n, ckpt(3n, 4, 1))
    const names = await segments(h)
    expect(names[names.length - 1]).toBe(segmentFileName(16_561n))
    expect((await readBack(h)).get(3n)).toEqual(ckpt(3n, 4, 1))
  }, 600_000)

  it('rolls by size', async () => {
    const h = new HistoryArchive(dir.path, 'a', { segmentMaxBytes: 1000 })
    for (let tick = 1n; tick <= 6n; tick++) await h.write(tick, ckpt(tick, 300))
    expect(await segments(h)).toEqual([1n, 4n].map(segmentFileName)) // 24 + 3 × 389 bytes passes 1000 at the third
  })
})

describe('HistoryArchive retention (--history-keep)', () => {
  it('a duration drops whole segments whose records are all older than the window, names the anchor first, never the newest', async () => {
    const clock = new FakeClock()
    const pruned: Array<[number, string]> = []
    const h = new HistoryArchive(dir.path, 'a', { nowMs: clock.now, keep: parseHistoryKeep('2h'), onPrune: (files, _b, why) => pruned.push([files, why]) })
    for (let tick = 0n; tick < 5n * 720n; tick++) {
      await h.write(tick, ckpt(tick, 4))
      clock.ms += 5000
    }
    // Five hours written, two kept: the segments begun at 0h..2h go once the next began more than 2h ago.
    const names = await segments(h)
    expect(names).toEqual([1440n, 2160n, 2880n].map(segmentFileName))
    expect(pruned.every(([, why]) => why === 'retention')).toBe(true)
    const marker = decodePrunedMarker(await readFile(join(h.dir, PRUNED_MARKER), 'utf8'))
    expect(marker?.anchorTick).toBe(1440n)
    // A long pause: the next write starts a new segment and everything but it and the one before may go.
    clock.ms += 10 * 3_600_000
    await h.write(9000n, ckpt(9000n, 4))
    expect(await segments(h)).toEqual([segmentFileName(2880n), segmentFileName(9000n)])
  }, 60_000)

  it('a count keeps at least the newest N checkpoints (same-tick records count once) and at most about 1.5 N', async () => {
    const h = new HistoryArchive(dir.path, 'a', { keep: parseHistoryKeep('10') })
    for (let tick = 1n; tick <= 100n; tick++) {
      await h.write(tick, ckpt(tick))
      await h.write(tick, ckpt(tick, 16, 1, 1n)) // a renewal at the same tick
    }
    const ticks = [...(await readBack(h)).keys()]
    expect(ticks.length).toBeGreaterThanOrEqual(10)
    expect(ticks.length).toBeLessThanOrEqual(16)
    expect(ticks[ticks.length - 1]).toBe(100n)
    expect(decodePrunedMarker(await readFile(join(h.dir, PRUNED_MARKER), 'utf8'))?.anchorTick).toBe(ticks[0])
  })

  it('all keeps everything', async () => {
    const clock = new FakeClock()
    const h = new HistoryArchive(dir.path, 'a', { nowMs: clock.now, keep: parseHistoryKeep('all') })
    for (let tick = 0n; tick < 10n; tick++) {
      await h.write(tick, ckpt(tick))
      clock.ms += 30 * 86_400_000
    }
    expect((await segments(h)).length).toBe(10)
  })

  it('parses all, durations and counts; one-line refusals otherwise', () => {
    expect(parseHistoryKeep('all')).toEqual({ kind: 'all' })
    expect(parseHistoryKeep('7d')).toEqual({ kind: 'duration', ms: 7 * 86_400_000 })
    expect(parseHistoryKeep('36h')).toEqual({ kind: 'duration', ms: 36 * 3_600_000 })
    expect(parseHistoryKeep('1000')).toEqual({ kind: 'count', count: 1000 })
    for (const bad of ['0', '-1', '7x', '', 'forever', '0.5s', '9007199254740993']) expect(() => parseHistoryKeep(bad)).toThrow(/--history-keep/)
  })
})

describe('HistoryArchive quota (SPEC §11)', () => {
  it('keeps history plus the checkpoint under the quota, dropping the oldest segments first', async () => {
    const pruned: Array<[number, string]> = []
    const h = new HistoryArchive(dir.path, 'a', { quotaBytes: 10_000, onPrune: (files, _b, why) => pruned.push([files, why]) })
    for (let tick = 1n; tick <= 30n; tick++) await h.write(tick, ckpt(tick, 800))
    expect((await h.usedBytes()) + ckpt(1n, 800).length).toBeLessThanOrEqual(10_000)
    expect(pruned.length).toBeGreaterThan(0)
    expect(pruned.every(([, why]) => why === 'quota')).toBe(true)
    const ticks = [...(await readBack(h)).keys()]
    expect(ticks[ticks.length - 1]).toBe(30n)
    expect(decodePrunedMarker(await readFile(join(h.dir, PRUNED_MARKER), 'utf8'))?.anchorTick).toBe(ticks[0])
  })

  it('counts reference .ckpt files an older node left, and prunes them first', async () => {
    const h = new HistoryArchive(dir.path, 'a')
    await h.ready()
    for (let tick = 1n; tick <= 5n; tick++) await writeFile(join(h.dir, historyFileName(tick)), ckpt(tick, 1000))
    const after = new HistoryArchive(dir.path, 'a', { quotaBytes: 4_800 })
    await after.write(6n, ckpt(6n, 1000))
    expect((await readdir(after.dir)).filter((n) => n !== PRUNED_MARKER).sort()).toEqual([historyFileName(4n), historyFileName(5n), segmentFileName(6n)])
    expect(await after.read(6n)).toEqual(ckpt(6n, 1000))
    expect(await after.read(5n)).toEqual(ckpt(5n, 1000)) // a reference file still reads
  })

  it('capture puts back exactly what was there (a refused arrival leaves nothing behind)', async () => {
    const h = new HistoryArchive(dir.path, 'a', { segmentMaxBytes: 200 })
    await h.write(1n, ckpt(1n))
    const before = await readFile(join(h.dir, segmentFileName(1n)))
    const restore = await new HistoryArchive(dir.path, 'a').capture(2n)
    await h.write(2n, ckpt(2n, 300))
    await h.write(3n, ckpt(3n))
    await restore()
    expect(await segments(h)).toEqual([segmentFileName(1n)])
    expect((await readFile(join(h.dir, segmentFileName(1n)))).equals(before)).toBe(true)
    const fresh = await new HistoryArchive(dir.path, 'b').capture(1n)
    const b = new HistoryArchive(dir.path, 'b')
    await b.write(1n, ckpt(1n))
    await fresh()
    await expect(stat(b.dir)).rejects.toThrow()
  })
})
