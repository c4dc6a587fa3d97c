#!/usr/bin/env node
// `pnpm create-agent <dir>` at the repository root (issue 22, SPEC §14): a new
// agent project outside this repository that installs Igor from local
// tarballs, before anything is published. Builds what is stale (turbo, output
// on stderr; --no-build skips it), packs every package into ./dist-tarballs
// (pack-all.mjs), then runs create-igor-agent with `--tarballs`, so the project's
// package.json holds `file:` paths relative to itself, never absolute ones.
// The folder is relative to where pnpm was run; it must be outside the clone.
// Exit codes: 0 created, 1 refused or failed, 2 usage.
import { spawnSync } from 'node:child_process'
import { join, relative, resolve, isAbsolute } from 'node:path'
import { DEFAULT_OUT, packAll } from './pack-all.mjs'
import { root } from './pack-lib.mjs'

const USAGE = 'usage: pnpm create-agent <dir> [--no-build]   (a folder outside this repository, e.g. ../my-agent)'
const args = process.argv.slice(2)
const noBuild = args.includes('--no-build')
const positionals = args.filter((a) => a !== '--no-build')
const cwd = process.env.INIT_CWD ?? process.cwd()

function refuse(message, code = 1) {
  process.stderr.write(`create-agent: ${message}\n`)
  process.exit(code)
}

if (positionals.includes('--help') || positionals.includes('-h')) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
if (positionals.length !== 1 || positionals[0].startsWith('-')) refuse(`expected one folder\n${USAGE}`, 2)
const dir = positionals[0]
const inside = relative(root, resolve(cwd, dir))
if (!inside.startsWith('..') && !isAbsolute(inside)) {
  refuse(`${dir} is inside this repository (${root}); make the project outside it, e.g. pnpm create-agent ../${inside.split(/[\\/]/).pop() || 'my-agent'}`, 2)
}

if (!noBuild) {
  const turbo = join(root, 'node_modules', '.bin', 'turbo')
  const built = spawnSync(turbo, ['run', 'build', '--filter=@igor/create-agent...', '--output-logs=errors-only'], { cwd: root, stdio: ['ignore', 2, 2] })
  if (built.status !== 0) refuse(`the build failed (exit ${built.status ?? built.signal}); see above`)
}

let packed
try {
  packed = packAll(DEFAULT_OUT)
} catch (error) {
  refuse(`packing failed: ${String(error.stderr ?? error.message).trim().split('\n')[0]}`)
}
for (const problem of packed.problems) process.stderr.write(`create-agent: warning: ${problem}\n`)
process.stderr.write(`create-agent: packed ${Object.keys(packed.index).length} packages into ${relative(cwd, DEFAULT_OUT) || '.'}\n`)

const cli = join(root, 'packages', 'create-agent', 'dist', 'cli.js')
const created = spawnSync(process.execPath, [cli, dir, '--tarballs', DEFAULT_OUT], { cwd, stdio: 'inherit' })
process.exit(created.status ?? 1)
