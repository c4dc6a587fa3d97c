#!/usr/bin/env node
/**
 * `igor-build [entry] [-o out.wasm] [--manifest file]` — the one build command
 * of an agent project. Defaults: entry `assembly/index.ts`, output
 * `build/agent.wasm`, manifest `agent.manifest.json` (when it exists).
 * Exit codes: 0 built, 1 build failed, 2 usage.
 */
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { BuildError, buildAgent } from './build.js'

const USAGE = `usage: igor-build [entry.ts] [-o build/agent.wasm] [--manifest agent.manifest.json] [--use NAME=int]...

Compiles an AssemblyScript agent for igord (incremental GC runtime, no env.abort),
checks its imports against the manifest's capabilities and its ABI exports,
and writes the wasm plus the sidecar <name>.manifest.json igord reads.`

async function main(): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        manifest: { type: 'string' },
        use: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (error) {
    process.stderr.write(`igor-build: ${(error as Error).message}\n${USAGE}\n`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (positionals.length > 1) {
    process.stderr.write(`igor-build: one entry file, got ${positionals.length}\n${USAGE}\n`)
    return 2
  }
  const constants: Record<string, number> = {}
  for (const use of values.use ?? []) {
    const match = /^([A-Za-z_]\w*)=(-?\d+)$/.exec(use)
    if (match === null) {
      process.stderr.write(`igor-build: --use wants NAME=integer, got ${JSON.stringify(use)}\n`)
      return 2
    }
    constants[match[1]!] = Number(match[2])
  }
  const manifest = values.manifest ?? (existsSync('agent.manifest.json') ? 'agent.manifest.json' : null)
  try {
    const result = await buildAgent({
      entry: positionals[0] ?? 'assembly/index.ts',
      outFile: values.out ?? 'build/agent.wasm',
      manifest,
      constants
    })
    const caps = result.capabilities.length > 0 ? result.capabilities.join(', ') : 'none'
    process.stdout.write(`built ${result.wasmPath} (${result.bytes} bytes, capabilities: ${caps})\n`)
    return 0
  } catch (error) {
    if (error instanceof BuildError) {
      process.stderr.write(`igor-build: ${error.message}\n`)
      return 1
    }
    throw error
  }
}

process.exitCode = await main()
