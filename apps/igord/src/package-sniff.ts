import { closeSync, openSync, readSync } from 'node:fs'

/**
 * True when `path` holds an export package (the §7 `AgentTransfer` JSON
 * `igord export` writes, alone or with its history) rather than a raw checkpoint, which starts with its
 * version byte (SPEC §12). Unreadable: false, and the caller's own read names
 * the problem. Kept apart from import.ts so the command line does not load
 * libp2p to parse itself.
 */
export function isPackageFile(path: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    const head = Buffer.alloc(64)
    const n = readSync(fd, head, 0, head.length, 0)
    const text = head.subarray(0, n).toString('latin1')
    // `igord export --with-history` (history-package.ts): the package behind an 8-byte magic.
    return text.startsWith('IGOREXPH') || /^\s*\{/.test(text)
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
