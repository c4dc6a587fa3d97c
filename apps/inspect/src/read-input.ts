import { readFile } from 'node:fs/promises'

export type InputErrorCode = 'MISSING_FILE' | 'UNREADABLE_FILE'

/** A checkpoint or WASM file that could not be read; the message names the file. */
export class InputError extends Error {
  override readonly name = 'InputError'
  constructor(readonly code: InputErrorCode, message: string) {
    super(message)
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
  ERR_FS_FILE_TOO_LARGE: 'file too large'
}

export async function readInput(what: 'checkpoint' | 'wasm' | 'receipts' | 'payments', path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    const reason = REASONS[code] ?? (code !== '' ? code : String(error))
    throw new InputError(code === 'ENOENT' ? 'MISSING_FILE' : 'UNREADABLE_FILE', `cannot read ${what} ${path}: ${reason}`)
  }
}
