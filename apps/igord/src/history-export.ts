// SPEC §12 (ours, issue 21 item 2): `igord history export <agentId> <dir>` —
// the agent's retained history in the reference layout (`<tick %010d>.ckpt`),
// so reference tools (and `igord verify <dir>`) can check our agents.
import { join } from 'node:path'
import { HISTORY_DIR, RunnerError, readRetainedHistory, writeReferenceHistory } from '@igor/runner'
import type { Io } from './io.js'

export interface HistoryExportCommand {
  readonly dataDir: string
  readonly agentId: string
  readonly out: string
  readonly json: boolean
}

/** Exit 0 when every checkpoint was written, 1 when the history is missing, damaged or a write failed. */
export async function runHistoryExport(command: HistoryExportCommand, io: Io): Promise<number> {
  const dir = join(command.dataDir, 'checkpoints', HISTORY_DIR, command.agentId)
  try {
    const history = await readRetainedHistory(dir)
    if (history.checkpoints.length === 0) {
      io.stderr(`igord: no history for ${command.agentId} in ${dir}\n`)
      return 1
    }
    await writeReferenceHistory(history, command.out)
    const first = history.checkpoints[0]!.tick
    const last = history.checkpoints[history.checkpoints.length - 1]!.tick
    if (command.json) {
      io.stdout(`${JSON.stringify({ agentId: command.agentId, dir: command.out, checkpoints: history.checkpoints.length, firstTick: first.toString(), lastTick: last.toString(), prunedAnchor: history.prunedAnchor?.toString() ?? null, damaged: history.damaged })}\n`)
    } else {
      io.stdout(`wrote ${history.checkpoints.length} checkpoints of ${command.agentId} (ticks ${first} → ${last}${history.prunedAnchor !== null ? ', earlier history pruned' : ''}) to ${command.out}\n`)
    }
    for (const line of history.damaged) io.stderr(`igord: damaged history left out: ${line}\n`)
    return history.damaged.length === 0 ? 0 : 1
  } catch (error) {
    if (error instanceof RunnerError) {
      io.stderr(`igord: ${error.message}\n`)
      return 1
    }
    throw error
  }
}
