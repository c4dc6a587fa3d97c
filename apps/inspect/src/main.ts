import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { EXIT_OK, EXIT_USAGE, USAGE, fail } from './io.js'
import type { InspectIo } from './io.js'
import { runInspect } from './run.js'

function usageError(io: InspectIo, reason: string): number {
  fail(io, reason)
  io.stderr.write(`${USAGE}\n`)
  return EXIT_USAGE
}

/** `inspect <checkpoint> [--wasm <agent.wasm>] [--json]`; resolves to the exit code. */
export async function main(argv: readonly string[], io: InspectIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        wasm: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' }
      }
    })
  } catch (error) {
    // parseArgs messages run on with advice after the first sentence; the first sentence is the reason.
    const message = error instanceof Error ? error.message : String(error)
    return usageError(io, message.split('. ')[0] ?? message)
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    io.stdout.write(`${USAGE}\n`)
    return EXIT_OK
  }
  if (values.version === true) {
    io.stdout.write(`${versionLine()}\n`)
    return EXIT_OK
  }
  if (positionals.length === 0) return usageError(io, 'missing <checkpoint> argument')
  if (positionals.length > 1) return usageError(io, `unexpected argument ${positionals[1]}`)
  return runInspect({ checkpointPath: positionals[0] as string, wasmPath: values.wasm, json: values.json }, io)
}

/** `igor-inspect 0.x.y (node v20…)`, like `igord --version` (issue 22). */
export function versionLine(): string {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return `igor-inspect ${version} (node ${process.version})`
}
