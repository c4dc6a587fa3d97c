// SPEC §12 (ours, issue 21 item 2): a history segment (`seg-<tick>.hist`) read
// as the reference layout's files — one `<tick %010d>.ckpt` per record, the
// later record for a tick superseding the earlier (a same-tick replacement).
// Portable: the browser verifier takes dropped segments too.
import { parseHistorySegment, readCheckpointHeader, segmentTickOf } from '@igor/checkpoint-codec/portable'
import type { HistoryFile } from './verify.js'

/** True for our segment file names. */
export function isSegmentName(name: string): boolean {
  return segmentTickOf(name) !== null
}

/**
 * The files a directory's segments hold, in write order (segments by their
 * tick, records in file order), one per tick: the last record of a tick wins.
 * A torn tail (a crash mid-append) is no record; damage before a segment's
 * end is one unreadable entry named after the segment, so verify reports it.
 */
export function segmentHistoryFiles(segments: ReadonlyArray<{ readonly name: string, readonly path?: string, readonly bytes: Uint8Array | null, readonly readError?: string }>): HistoryFile[] {
  const ordered = [...segments].sort((a, b) => {
    const x = segmentTickOf(a.name) ?? 0n
    const y = segmentTickOf(b.name) ?? 0n
    return x < y ? -1 : x > y ? 1 : 0
  })
  const byTick = new Map<string, HistoryFile>()
  const damaged: HistoryFile[] = []
  for (const segment of ordered) {
    const label = segment.path ?? segment.name
    if (segment.bytes === null) {
      damaged.push({ name: segment.name, path: label, bytes: null, readError: segment.readError ?? 'unreadable' })
      continue
    }
    const parsed = parseHistorySegment(segment.bytes)
    for (const record of parsed.records) {
      let tick: bigint
      try {
        tick = readCheckpointHeader(record.payload).tickNumber
      } catch {
        // Not a checkpoint: shown under its offset so the parse error names it.
        byTick.set(`${segment.name}@${record.offset}`, { name: `${segment.name}@${record.offset}`, path: `${label}@${record.offset}`, bytes: record.payload })
        continue
      }
      const name = `${tick.toString().padStart(10, '0')}.ckpt`
      byTick.delete(name) // re-insert: the map keeps write order
      byTick.set(name, { name, path: `${label}@${record.offset}`, bytes: record.payload })
    }
    if (parsed.corrupt !== null) {
      damaged.push({ name: segment.name, path: label, bytes: null, readError: `${parsed.corrupt.reason} at byte ${parsed.corrupt.offset}` })
    }
  }
  return [...byTick.values(), ...damaged]
}
