// SPEC §12 "History and `igord verify`" (ours, issue 21 item 2): what one
// agent's history directory holds — reference `<tick %010d>.ckpt` files (an
// older node's layout, kept readable) and our append-only segments.
import { open, readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type ParsedSegment, parseHistorySegment, readCheckpointHeader, segmentTickOf } from '@igor/checkpoint-codec'
import { errnoCode, storeIoError } from '../store/fs-errors.js'

/** `<tick %010d>.ckpt`, the reference's file name. */
export function historyFileName(tick: bigint): string {
  return `${tick.toString().padStart(10, '0')}.ckpt`
}

const CKPT = /^(\d{10,20})\.ckpt$/

/** One file of a history, oldest first: a reference file or one of our segments. */
export interface HistoryUnit {
  readonly name: string
  readonly kind: 'ckpt' | 'segment'
  /** The tick in its name (a segment's first tick). */
  readonly tick: bigint
  size: number
  /** Segment: from its header; a `.ckpt` file: its mtime. */
  readonly createdAtMs: number
  /** Distinct ticks in it, once read (retention by count needs them). */
  ticks?: Set<bigint> | undefined
}

/** The directory's history files, oldest first (`.ckpt` files, then segments, each by tick). */
export async function listHistoryUnits(dir: string): Promise<HistoryUnit[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return []
    throw storeIoError(dir, 'read directory', error)
  }
  const units: HistoryUnit[] = []
  for (const name of names) {
    const ckpt = CKPT.exec(name)
    const segmentTick = segmentTickOf(name)
    if (ckpt === null && segmentTick === null) continue
    const path = join(dir, name)
    let size = 0
    let mtimeMs = 0
    try {
      const st = await stat(path)
      size = st.size
      mtimeMs = st.mtimeMs
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue
      throw storeIoError(path, 'stat', error)
    }
    if (ckpt !== null) units.push({ name, kind: 'ckpt', tick: BigInt(ckpt[1]!), size, createdAtMs: mtimeMs, ticks: new Set([BigInt(ckpt[1]!)]) })
    else units.push({ name, kind: 'segment', tick: segmentTick!, size, createdAtMs: await segmentCreatedAt(path, mtimeMs) })
  }
  const rank = (u: HistoryUnit): number => (u.kind === 'ckpt' ? 0 : 1)
  return units.sort((a, b) => rank(a) - rank(b) || (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0))
}

/**
 * History file names in history order, from names alone (no stat, no header
 * read): reference `.ckpt` files, then segments, each by tick — the order
 * `listHistoryUnits` gives.
 */
export function orderHistoryNames(names: readonly string[]): Array<{ name: string, kind: 'ckpt' | 'segment', tick: bigint }> {
  const out: Array<{ name: string, kind: 'ckpt' | 'segment', tick: bigint }> = []
  for (const name of names) {
    const ckpt = CKPT.exec(name)
    if (ckpt !== null) {
      out.push({ name, kind: 'ckpt', tick: BigInt(ckpt[1]!) })
      continue
    }
    const tick = segmentTickOf(name)
    if (tick !== null) out.push({ name, kind: 'segment', tick })
  }
  const rank = (u: { kind: string }): number => (u.kind === 'ckpt' ? 0 : 1)
  return out.sort((a, b) => rank(a) - rank(b) || (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0))
}

/** The header's time, read from its first 24 bytes (`fallback` when the header is torn). */
async function segmentCreatedAt(path: string, fallback: number): Promise<number> {
  const handle = await open(path, 'r').catch((error: unknown) => { throw storeIoError(path, 'open', error) })
  try {
    const head = new Uint8Array(24)
    const { bytesRead } = await handle.read(head, 0, 24, 0)
    return parseHistorySegment(head.subarray(0, bytesRead)).createdAtMs ?? fallback
  } finally {
    await handle.close()
  }
}

/** Reads and parses one segment file. */
export async function readSegment(path: string): Promise<ParsedSegment> {
  try {
    return parseHistorySegment(new Uint8Array(await readFile(path)))
  } catch (error) {
    throw storeIoError(path, 'read', error)
  }
}

/** The tick of an archived checkpoint's bytes, or null when they do not decode. */
export function tickOf(bytes: Uint8Array): bigint | null {
  try {
    return readCheckpointHeader(bytes).tickNumber
  } catch {
    return null
  }
}

/** Fills `unit.ticks` (reads the segment once). */
export async function loadTicks(dir: string, unit: HistoryUnit): Promise<Set<bigint>> {
  if (unit.ticks !== undefined) return unit.ticks
  const ticks = new Set<bigint>()
  for (const record of (await readSegment(join(dir, unit.name))).records) {
    const tick = tickOf(record.payload)
    if (tick !== null) ticks.add(tick)
  }
  unit.ticks = ticks
  return ticks
}

/**
 * The newest checkpoint the history holds: the last record of the newest
 * segment, else the newest `.ckpt` file. Null when there is none.
 */
export async function newestArchived(dir: string): Promise<Uint8Array | null> {
  const units = await listHistoryUnits(dir)
  for (const unit of units.reverse()) {
    if (unit.kind === 'segment') {
      const records = (await readSegment(join(dir, unit.name))).records
      if (records.length > 0) return records[records.length - 1]!.payload
      continue
    }
    try {
      return new Uint8Array(await readFile(join(dir, unit.name)))
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw storeIoError(join(dir, unit.name), 'read', error)
    }
  }
  return null
}
