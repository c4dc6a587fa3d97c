import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { HistoryError, type LineageResult, renderLineageReport, verifyHistoryDirs } from '@igor/inspector'
import type { Io } from './io.js'

/**
 * `igord verify <dir>…` (SPEC §12): the reference's report on stdout; exit 0
 * when the lineage is valid, 1 when not; a directory that cannot be verified
 * at all prints `Error: …` on stderr and exits 1, as the reference does.
 * Ours (issue 22): a node's data directory (or its `checkpoints/`) stands for
 * the history of the one agent it holds; `--json` prints the result as one
 * JSON object (u64 ticks as decimal strings).
 */
export async function runVerify(dirs: readonly string[], io: Io, json = false): Promise<number> {
  try {
    const result = await verifyHistoryDirs(await Promise.all(dirs.map(historyDirOf)))
    io.stdout(json ? `${JSON.stringify(lineageJson(result))}\n` : renderLineageReport(result))
    return result.valid ? 0 : 1
  } catch (error) {
    if (error instanceof HistoryError) {
      io.stderr(`Error: ${error.message}\n`)
      return 1
    }
    if (error instanceof DataDirError) {
      io.stderr(`igord: ${error.message}\n`)
      return 1
    }
    throw error
  }
}

class DataDirError extends Error {
  override readonly name = 'DataDirError'
}

/**
 * A history directory as given, or the one agent history inside a data
 * directory (`<dir>/checkpoints/history/<agent>`) or its `checkpoints/`.
 * A data directory with several agents' histories names them.
 */
async function historyDirOf(dir: string): Promise<string> {
  for (const history of [join(dir, 'checkpoints', 'history'), join(dir, 'history')]) {
    if (!await isDirectory(history)) continue
    const agents: string[] = []
    for (const name of (await readdir(history)).sort()) if (await isDirectory(join(history, name))) agents.push(name)
    if (agents.length === 1) return join(history, agents[0] as string)
    if (agents.length > 1) {
      throw new DataDirError(`${dir} holds the histories of ${agents.length} agents (${agents.join(', ')}): verify one, e.g. igord verify ${join(history, agents[0] as string)}`)
    }
  }
  return dir
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false)
}

function lineageJson(result: LineageResult): object {
  return {
    valid: result.valid,
    agentDid: result.agentDid,
    agentPubKey: result.agentPubKey,
    checkpoints: result.checkpoints,
    firstTick: result.firstTick.toString(),
    lastTick: result.lastTick.toString(),
    segments: result.segments.map((s) => ({ wasmHash: s.wasmHash, startTick: s.startTick.toString(), endTick: s.endTick.toString(), count: s.count })),
    errors: result.errors,
    // Ours (issue 21): the first tick of a pruned history (a pruning marker covers its start); null when whole.
    prunedFrom: result.prunedFrom?.toString() ?? null
  }
}
