import { COMMON_FLAGS, FLAGS, SUBCOMMANDS } from './args.js'
import type { FlagName, FlagSpec, SubcommandSpec } from './args.js'

/** Help text is generated from the tables in args.ts, so it cannot drift from the parser. */

const EXIT_CODES = 'Exit codes: 0 success, 1 failure (one line "igord: <reason>" on stderr), 2 bad command line, 70 internal error (a bug).'

function flagLines(names: readonly FlagName[]): string {
  const rows = names.map((name) => {
    const spec = FLAGS[name] as FlagSpec
    const left = `  --${name}${spec.short !== undefined ? `, -${spec.short}` : ''}${spec.value !== undefined ? ` ${spec.value}` : ''}`
    const right = `${spec.help}${spec.default !== undefined ? ` (default ${spec.default})` : ''}`
    return [left, right] as const
  })
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  return rows.map(([left, right]) => `${left.padEnd(width)}${right}`).join('\n') + '\n'
}

function synopsis(name: string, spec: SubcommandSpec): string {
  const words = [name === 'start' ? 'igord [start]' : `igord ${name}`]
  if (spec.synopsis !== undefined) words.push(spec.synopsis)
  words.push('[flags]')
  return words.join(' ')
}

/** `igord --help`: every subcommand, and the flags of `start` (the default). */
export function renderUsage(): string {
  const names = Object.keys(SUBCOMMANDS)
  const lines = names.map((name) => [synopsis(name, SUBCOMMANDS[name] as SubcommandSpec), (SUBCOMMANDS[name] as SubcommandSpec).summary] as const)
  lines.push(['igord --inspect-checkpoint <file> [--inspect-wasm <file>] [--json]', 'print a checkpoint report'])
  const width = Math.max(...lines.map(([left]) => left.length)) + 2
  const start = SUBCOMMANDS.start as SubcommandSpec
  return 'Usage:\n' +
    lines.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n') + '\n\n' +
    'Start flags:\n' + flagLines(start.flags) + '\n' +
    'Every subcommand:\n' + flagLines(COMMON_FLAGS) + '\n' +
    'Run "igord <subcommand> --help" for the flags of each subcommand.\n' +
    (start.notes !== undefined ? `${start.notes}\n` : '') +
    `${EXIT_CODES}\n`
}

/** `igord <subcommand> --help`. */
export function renderSubcommandHelp(name: string): string {
  const spec = SUBCOMMANDS[name]
  if (spec === undefined) return renderUsage()
  return `Usage: ${synopsis(name, spec)}\n\n${spec.summary}\n\nFlags:\n${flagLines([...spec.flags, ...COMMON_FLAGS])}\n` +
    (spec.notes !== undefined ? `${spec.notes}\n` : '') +
    `${EXIT_CODES}\n`
}

/** The top-level help, as a constant for callers that print it. */
export const USAGE = renderUsage()
