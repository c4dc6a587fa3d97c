// SPEC §12 (ours, issue 21 item 2): `igord history export <id> <dir>` — an
// agent's retained history (segments and reference files) written as the
// reference layout, one `<tick %010d>.ckpt` per tick, so reference tools can
// check our agents.
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PRUNED_MARKER, decodePrunedMarker, peekEpoch } from '@igor/checkpoint-codec'
import type { Epoch } from '@igor/epoch'
import { DIR_MODE, fsyncDirectory, writeFileAtomic } from '../store/atomic-write.js'
import { errnoCode, storeIoError } from '../store/fs-errors.js'
import { historyFileName, listHistoryUnits, readSegment, tickOf } from './history-files.js'

export interface RetainedHistory {
  /** One checkpoint per tick, ascending. */
  readonly checkpoints: ReadonlyArray<{ readonly tick: bigint, readonly bytes: Uint8Array }>
  /** Damage found (a segment corrupt before its end, a record that is no checkpoint), one line each. */
  readonly damaged: readonly string[]
  /** The anchor of the directory's `pruned.json`, null when none. */
  readonly prunedAnchor: bigint | null
}

function epochOf(bytes: Uint8Array): Epoch | null {
  try {
    return peekEpoch(bytes)
  } catch {
    return null
  }
}

/**
 * Reads a history directory as `igord verify` does: reference files, then the
 * segments in write order where a later record of a tick supersedes an earlier
 * one; between a reference file and a segment record the higher epoch wins
 * (the record on equal epochs). A torn tail is no record.
 */
export async function readRetainedHistory(dir: string): Promise<RetainedHistory> {
  const byTick = new Map<bigint, { bytes: Uint8Array, fromSegment: boolean }>()
  const damaged: string[] = []
  for (const unit of await listHistoryUnits(dir)) {
    const path = join(dir, unit.name)
    if (unit.kind === 'ckpt') {
      try {
        byTick.set(unit.tick, { bytes: new Uint8Array(await readFile(path)), fromSegment: false })
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw storeIoError(path, 'read', error)
      }
      continue
    }
    const parsed = await readSegment(path)
    for (const record of parsed.records) {
      const tick = tickOf(record.payload)
      if (tick === null) {
        damaged.push(`${unit.name} at byte ${record.offset}: not a checkpoint`)
        continue
      }
      const held = byTick.get(tick)
      if (held !== undefined && !held.fromSegment) {
        const [a, b] = [epochOf(held.bytes), epochOf(record.payload)]
        if (a !== null && b !== null && a.supersedes(b)) continue
      }
      byTick.set(tick, { bytes: record.payload, fromSegment: true })
    }
    if (parsed.corrupt !== null) damaged.push(`${unit.name}: ${parsed.corrupt.reason} at byte ${parsed.corrupt.offset}`)
  }
  let prunedAnchor: bigint | null = null
  try {
    prunedAnchor = decodePrunedMarker(await readFile(join(dir, PRUNED_MARKER), 'utf8'))?.anchorTick ?? null
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw storeIoError(join(dir, PRUNED_MARKER), 'read', error)
  }
  const checkpoints = [...byTick.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tick, { bytes }]) => ({ tick, bytes }))
  return { checkpoints, damaged, prunedAnchor }
}

/**
 * Writes `history` into `outDir` (created 0700) as `<tick %010d>.ckpt` files,
 * each atomically, and `pruned.json` when the history was pruned, so that
 * `igord verify <outDir>` reports as it would on the node.
 */
export async function writeReferenceHistory(history: RetainedHistory, outDir: string): Promise<void> {
  try {
    await mkdir(outDir, { recursive: true, mode: DIR_MODE })
  } catch (error) {
    throw storeIoError(outDir, 'create directory', error)
  }
  for (const { tick, bytes } of history.checkpoints) await writeFileAtomic(outDir, historyFileName(tick), bytes)
  if (history.prunedAnchor !== null) {
    const marker = await readFile(join(outDir, PRUNED_MARKER), 'utf8').catch(() => null)
    const text = `${JSON.stringify({ version: 1, anchorTick: history.prunedAnchor.toString() })}\n`
    if (marker === null || decodePrunedMarker(marker)?.anchorTick !== history.prunedAnchor) await writeFileAtomic(outDir, PRUNED_MARKER, new TextEncoder().encode(text))
  }
  await fsyncDirectory(outDir)
}
