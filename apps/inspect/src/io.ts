/** Where the inspector writes: `process.stdout`/`stderr`, or anything with `write` (tests, igord). */
export interface InspectIo {
  readonly stdout: { write(chunk: string): unknown }
  readonly stderr: { write(chunk: string): unknown }
  /** The program named in error lines (SPEC §14): `igor-inspect` (default), or `igord` for its inspect flags. */
  readonly program?: string
}

export const USAGE =
  'usage: igor-inspect <checkpoint> [--wasm <agent.wasm>] [--json] | --receipts <file> [--checkpoint <file>] [--payments <file>] [--initial-budget <microcents>] [--json] | --version'

/** Exit codes: 0 report printed, 1 bad input, WASM mismatch or receipts INVALID, 2 bad command line. */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** One line on stderr, never a stack trace (SPEC §8, §10). */
export function fail(io: InspectIo, reason: string): void {
  io.stderr.write(`${io.program ?? 'igor-inspect'}: ${reason.replace(/[\r\n]+/g, ' ')}\n`)
}
