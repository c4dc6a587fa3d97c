import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { EXIT_OK, EXIT_USAGE, USAGE, fail } from './io.js'
import type { InspectIo } from './io.js'
import { runInspect } from './run.js'
import { runReceipts } from './run-receipts.js'

function usageError(io: InspectIo, reason: string): number {
  fail(io, reason)
  io.stderr.write(`${USAGE}\n`)
  return EXIT_USAGE
}

/**
 * `inspect <checkpoint> [--wasm <agent.wasm>] [--json]`, or the receipt audit
 * (SPEC §15) `inspect --receipts <file> [--checkpoint <file>] [--payments <file>]
 * [--initial-budget <microcents>] [--json]`; resolves to the exit code.
 */
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
        receipts: { type: 'string' },
        checkpoint: { type: 'string' },
        payments: { type: 'string' },
        'initial-budget': { type: 'string' },
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
  if (values.receipts !== undefined) {
    if (positionals.length > 0) return usageError(io, `unexpected argument ${positionals[0]} (with --receipts, name the checkpoint with --checkpoint)`)
    if (values.wasm !== undefined) return usageError(io, '--wasm does not apply to --receipts')
    let initialBudget: bigint | undefined
    if (values['initial-budget'] !== undefined) {
      initialBudget = parseMicrocents(values['initial-budget'])
      if (initialBudget === undefined) return usageError(io, `--initial-budget must be a whole number of microcents from 0 to ${I64_MAX}, got ${values['initial-budget']}`)
    }
    return runReceipts({
      receiptsPath: values.receipts, checkpointPath: values.checkpoint, paymentsPath: values.payments, initialBudget, json: values.json
    }, io)
  }
  for (const flag of ['checkpoint', 'payments', 'initial-budget'] as const) {
    if (values[flag] !== undefined) return usageError(io, `--${flag} needs --receipts`)
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

const I64_MAX = (1n << 63n) - 1n

/** A budget in microcents: decimal digits, 0 … 2^63-1; `undefined` otherwise. */
function parseMicrocents(text: string): bigint | undefined {
  if (!/^\d{1,19}$/.test(text)) return undefined
  const value = BigInt(text)
  return value <= I64_MAX ? value : undefined
}
