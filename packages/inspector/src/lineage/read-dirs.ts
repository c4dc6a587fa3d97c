import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PRUNED_MARKER, decodePrunedMarker } from '@igor/checkpoint-codec/portable'
import type { HistoryFile, LineageResult } from './verify.js'
import { mergeHistories } from './verify.js'
import { verifyHistories } from './node.js'
import { isSegmentName, segmentHistoryFiles } from './segments.js'

/** A history directory that cannot be verified at all: printed as `Error: <message>` (SPEC §12). */
export class HistoryError extends Error {
  override readonly name = 'HistoryError'
  constructor(readonly code: 'UNREADABLE_DIR' | 'NO_CHECKPOINTS' | 'NO_DIRS', message: string) {
    super(message)
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links'
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return (code !== undefined ? REASONS[code] : undefined) ?? code ?? (error instanceof Error ? error.message : String(error))
}

/**
 * The checkpoints of one history directory (SPEC §12): the reference's
 * `*.ckpt` files and (ours, issue 21) the records of our `seg-*.hist`
 * segments, each record as the `<tick %010d>.ckpt` it stands for; for a tick
 * in both, the higher epoch wins (a segment on equal epochs).
 */
export async function readHistoryDir(dir: string): Promise<HistoryFile[]> {
  return (await readHistoryDirWithMarker(dir)).files
}

/** `readHistoryDir`, and the anchor tick of the directory's `pruned.json` marker (null: none). */
export async function readHistoryDirWithMarker(dir: string): Promise<{ files: HistoryFile[], prunedAnchor: bigint | null }> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (error) {
    // The reference's words: `read history directory: open <dir>: <reason>`.
    throw new HistoryError('UNREADABLE_DIR', `read history directory: open ${dir}: ${reason(error)}`)
  }
  const files = entries.filter((e) => !e.isDirectory())
  const names = files.filter((e) => e.name.endsWith('.ckpt')).map((e) => e.name)
  const segmentNames = files.filter((e) => isSegmentName(e.name)).map((e) => e.name)
  const read = async (name: string): Promise<HistoryFile> => {
    try {
      return { name, path: join(dir, name), bytes: await readFile(join(dir, name)) }
    } catch (error) {
      return { name, path: join(dir, name), bytes: null, readError: reason(error) }
    }
  }
  const ckpts = await Promise.all(names.map(read))
  const records = segmentHistoryFiles(await Promise.all(segmentNames.map(read)))
  if (ckpts.length === 0 && records.length === 0) throw new HistoryError('NO_CHECKPOINTS', `no checkpoint files found in ${dir}`)
  let prunedAnchor: bigint | null = null
  const marker = await readFile(join(dir, PRUNED_MARKER), 'utf8').catch(() => null)
  if (marker !== null) prunedAnchor = decodePrunedMarker(marker)?.anchorTick ?? null
  return { files: records.length === 0 ? ckpts : ckpts.length === 0 ? records : mergeHistories([records, ckpts]), prunedAnchor }
}

/**
 * `igord verify <dir>…`: reads every directory (each must be readable and hold
 * `*.ckpt` files, else `HistoryError`), merges them (higher epoch wins per
 * name) and verifies the result; forks among all the files read are named.
 */
export async function verifyHistoryDirs(dirs: readonly string[]): Promise<LineageResult> {
  if (dirs.length === 0) throw new HistoryError('NO_DIRS', 'no history directory given')
  const histories: HistoryFile[][] = []
  let prunedAnchor: bigint | null = null
  // One directory at a time, so the first bad one (in the order given) is the one reported.
  for (const dir of dirs) {
    const read = await readHistoryDirWithMarker(dir)
    histories.push(read.files)
    // Ours (issue 21): any directory's marker may cover the start (the agent was pruned on the node it began on).
    if (read.prunedAnchor !== null && (prunedAnchor === null || read.prunedAnchor > prunedAnchor)) prunedAnchor = read.prunedAnchor
  }
  // SPEC §12: a fork is named, even where the merge by name would hide one side of it.
  return verifyHistories(histories, { prunedAnchor })
}
