// Node fs failures in words a CLI can print (SPEC §10: name the file and what is wrong).

/** The OS error code of a Node fs failure (`ENOENT`, `ENOSPC`, …), or undefined. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return undefined
}

/** The words for a failed read of a file the user named (SPEC §10: name the file and what is wrong). */
export function describeReadError(code: string | undefined, error: unknown): string {
  switch (code) {
    case 'ENOENT': return 'no such file'
    case 'EACCES':
    case 'EPERM': return 'permission denied'
    case 'EISDIR': return 'is a directory'
    case 'ENOTDIR': return 'a parent of it is not a directory'
    default: return `cannot read (${code ?? (error instanceof Error ? error.message : String(error))})`
  }
}
