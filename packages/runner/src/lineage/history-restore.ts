// SPEC §12 "History and `igord verify`" (ours, issue 21 item 2): an agent
// imported with its history (`igord export --with-history`) gets that history
// written here before it is admitted, so `igord verify` on this node alone
// says VALID (from the anchor when the exporter had pruned).
import { mkdir, readdir, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { PRUNED_MARKER, encodeHistoryRecord, encodePrunedMarker, encodeSegmentHeader, segmentFileName } from '@igor/checkpoint-codec'
import { RunnerError } from '../errors.js'
import { validateAgentId } from '../store/agent-id.js'
import { DIR_MODE, fsyncDirectory, writeFileAtomic } from '../store/atomic-write.js'
import { errnoCode, storeIoError } from '../store/fs-errors.js'
import { HISTORY_DIR } from './history.js'
import { listHistoryUnits } from './history-files.js'

export interface ImportedHistory {
  /** One checkpoint per tick, ascending; already verified by the caller (a chain, the agent's key). */
  readonly checkpoints: ReadonlyArray<{ readonly tick: bigint, readonly bytes: Uint8Array }>
  /** The exporter's anchor (`pruned.json`), null when its history was whole. */
  readonly prunedAnchor: bigint | null
}

/**
 * Writes `history` as the agent's history directory here: `pruned.json` first
 * (when pruned), then one segment holding every checkpoint, each file atomic
 * and durable. Refused (`AGENT_EXISTS`, nothing written) when this node holds
 * any history of the agent already: the two are not merged. Returns what
 * removes it again (the admission that follows failed).
 */
export async function restoreImportedHistory(checkpointsDir: string, agentId: string, history: ImportedHistory, nowMs = Date.now()): Promise<() => Promise<void>> {
  const dir = join(checkpointsDir, HISTORY_DIR, validateAgentId(agentId))
  const first = history.checkpoints[0]
  if (first === undefined) throw new RangeError('an imported history holds at least one checkpoint')
  if ((await listHistoryUnits(dir)).length > 0) {
    throw new RunnerError('AGENT_EXISTS', `this node already holds history of ${agentId} (${dir}); an imported history is not merged into it (import the file on a node without it)`)
  }
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE })
  } catch (error) {
    throw storeIoError(dir, 'create directory', error)
  }
  const written: string[] = []
  const undo = async (): Promise<void> => {
    for (const name of written) await unlink(join(dir, name)).catch((error: unknown) => { if (errnoCode(error) !== 'ENOENT') throw storeIoError(join(dir, name), 'remove', error) })
    await fsyncDirectory(dir).catch(() => undefined)
    const left = await readdir(dir).catch(() => null)
    if (left !== null && left.length === 0) await rmdir(dir).catch(() => undefined)
  }
  try {
    if (history.prunedAnchor !== null) {
      await writeFileAtomic(dir, PRUNED_MARKER, new TextEncoder().encode(encodePrunedMarker({ anchorTick: history.prunedAnchor }, nowMs)))
      written.push(PRUNED_MARKER)
    }
    const name = segmentFileName(first.tick)
    await writeFileAtomic(dir, name, [encodeSegmentHeader(nowMs), ...history.checkpoints.map((c) => encodeHistoryRecord(c.bytes))])
    written.push(name)
    await fsyncDirectory(join(dir, '..'))
  } catch (error) {
    await undo().catch(() => undefined)
    throw error
  }
  return undo
}
