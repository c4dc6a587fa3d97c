#!/usr/bin/env node
/**
 * create-igor-agent <dir> [--tarballs <folder>] [--sdk <tarball or folder>]
 * (also `npm create @igor/agent <dir>`, and `pnpm create-agent <dir>` from a clone).
 * Exit codes: 0 created, 1 refused, 2 usage.
 */
import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { CreateAgentError, createAgent } from './create.js'

const USAGE = `usage: create-igor-agent <dir> [--tarballs <folder>] [--sdk <tarball or folder>]

Writes a new Igor agent project: an AssemblyScript agent, its manifest (and
MANIFEST.md explaining it), a unit test (vitest + @igor/sdk/test-host), a
README, and the scripts build, test (builds first) and start (igord runs it).
--tarballs  install @igor/sdk, igord and their Igor dependencies from a folder
            made by \`pnpm run pack-all\` (paths relative to the project)
--sdk       use a local @igor/sdk (a packed .tgz or a folder) instead of the registry`

function main(): number {
  let parsed
  try {
    parsed = parseArgs({ allowPositionals: true, options: { sdk: { type: 'string' }, tarballs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
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
    const { sdk, tarballs } = parsed.values
    const created = createAgent({ dir, ...(sdk !== undefined ? { sdk } : {}), ...(tarballs !== undefined ? { tarballs } : {}) })
    const shown = relative(process.cwd(), created.dir) || '.'
    process.stdout.write(`created ${created.name} in ${shown}\n\n  cd ${shown}\n  npm install\n  npm test     # builds build/agent.wasm first\n  npm start    # igord runs it; Ctrl-C stops it\n`)
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
