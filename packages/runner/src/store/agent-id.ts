import { RunnerError } from '../errors.js'

/** Longest accepted agent id; with the longest suffix the file name stays far below NAME_MAX (255). */
export const MAX_AGENT_ID_LENGTH = 128

const ALLOWED = /^[A-Za-z0-9._-]+$/

/**
 * Returns `id` unchanged when it is safe to use as a file name inside the
 * checkpoint directory (SPEC §5: agent ids are validated, no path traversal).
 *
 * The character set alone excludes `/`, `\` and NUL; the leading-dot and `..`
 * rules exclude `.`, `..` and hidden files.
 */
export function validateAgentId(id: string): string {
  const reason = problemWith(id)
  if (reason !== null) {
    const shown = typeof id === 'string' ? JSON.stringify(id) : String(id)
    throw new RunnerError('INVALID_AGENT_ID', `invalid agent id ${shown}: ${reason}`)
  }
  return id
}

function problemWith(id: unknown): string | null {
  if (typeof id !== 'string') return `must be a string, got ${typeof id}`
  if (id.length === 0) return 'must not be empty'
  if (id.length > MAX_AGENT_ID_LENGTH) return `must be at most ${MAX_AGENT_ID_LENGTH} characters (got ${id.length})`
  if (!ALLOWED.test(id)) return 'only letters, digits, ".", "_" and "-" are allowed'
  if (id.startsWith('.')) return 'must not start with "."'
  if (id.includes('..')) return 'must not contain ".."'
  return null
}
