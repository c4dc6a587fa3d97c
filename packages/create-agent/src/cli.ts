#!/usr/bin/env node
/**
 * create-igor-agent <dir> [--sdk <tarball or folder>]
 * (also `npm create @igor/agent <dir>` / `pnpm create @igor/agent <dir>`).
 * Exit codes: 0 created, 1 refused, 2 usage.
 */
import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { CreateAgentError, createAgent } from './create.js'

const USAGE = `usage: create-igor-agent <dir> [--sdk <tarball or folder>]

Writes a new Igor agent project: an AssemblyScript agent, its manifest,
a unit test (vitest + @igor/sdk/test-host) and a README.
--sdk uses a local @igor/sdk (a packed .tgz or a folder) instead of the registry.`

function main(): number {
  let parsed
  try {
    parsed = parseArgs({ allowPositionals: true, options: { sdk: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  } catch (error) {
    process.stderr.write(`create-igor-agent: ${(error as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (parsed.positionals.length !== 1) {
    process.stderr.write(`create-igor-agent: expected one folder, got ${parsed.positionals.length}\n${USAGE}\n`)
    return 2
  }
  const dir = parsed.positionals[0]!
  try {
    const created = createAgent({ dir, ...(parsed.values.sdk !== undefined ? { sdk: parsed.values.sdk } : {}) })
    const shown = relative(process.cwd(), created.dir) || '.'
    process.stdout.write(`created ${created.name} in ${shown}\n\n  cd ${shown}\n  npm install\n  npm run build\n  npm test\n  igord --run-agent build/agent.wasm\n`)
    return 0
  } catch (error) {
    if (error instanceof CreateAgentError) {
      process.stderr.write(`create-igor-agent: ${error.message}\n`)
      return 1
    }
    throw error
  }
}

process.exitCode = main()
