import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { HistoryFile, LineageResult } from './verify.js'
import { verifyHistories } from './node.js'

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

/** The `*.ckpt` files of one history directory (SPEC §12 archive layout). */
export async function readHistoryDir(dir: string): Promise<HistoryFile[]> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (error) {
    // The reference's words: `read history directory: open <dir>: <reason>`.
    throw new HistoryError('UNREADABLE_DIR', `read history directory: open ${dir}: ${reason(error)}`)
  }
  const names = entries.filter((e) => !e.isDirectory() && e.name.endsWith('.ckpt')).map((e) => e.name)
  if (names.length === 0) throw new HistoryError('NO_CHECKPOINTS', `no checkpoint files found in ${dir}`)
  return await Promise.all(names.map(async (name): Promise<HistoryFile> => {
    try {
      return { name, path: join(dir, name), bytes: await readFile(join(dir, name)) }
    } catch (error) {
      return { name, path: join(dir, name), bytes: null, readError: reason(error) }
    }
  }))
}

/**
 * `igord verify <dir>…`: reads every directory (each must be readable and hold
 * `*.ckpt` files, else `HistoryError`), merges them (higher epoch wins per
 * name) and verifies the result; forks among all the files read are named.
 */
export async function verifyHistoryDirs(dirs: readonly string[]): Promise<LineageResult> {
  if (dirs.length === 0) throw new HistoryError('NO_DIRS', 'no history directory given')
  const histories: HistoryFile[][] = []
  // One directory at a time, so the first bad one (in the order given) is the one reported.
  for (const dir of dirs) histories.push(await readHistoryDir(dir))
  // SPEC §12: a fork is named, even where the merge by name would hide one side of it.
  return verifyHistories(histories)
}
