#!/usr/bin/env node
// Packages as products (issue 11, SPEC §1): `pnpm pack` every publishable
// package, install the tarballs into an empty folder outside the workspace,
// and import each one (and run the bins) from there. Proves the tarballs
// carry no `workspace:` specifiers, ship their built files, and resolve
// each other by semver range like any registry install would.
//
// Usage: pnpm run pack-check   (after `pnpm build`; exit 0 = all good; --keep keeps the folder)
// External dependencies come from the npm registry (or pnpm's store, offline first).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const keep = process.argv.includes('--keep')
const work = mkdtempSync(join(tmpdir(), 'igor-pack-check-'))
const tarballs = join(work, 'tarballs')
const consumer = join(work, 'consumer')

// Under `pnpm run pack-check` (as .ci/run does, with pnpm from npx) use that same pnpm.
const execPath = process.env.npm_execpath
const PNPM = execPath !== undefined && /pnpm/.test(execPath) ? (/\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm']

function run(cmd, args, cwd) {
  if (cmd === 'pnpm') return run(PNPM[0], [...PNPM.slice(1), ...args], cwd)
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } })
}

function fail(message) {
  process.stderr.write(`pack-check: ${message}\n`)
  process.exitCode = 1
}

/** Publishable packages: every workspace package that is not private. */
function publishable() {
  const found = []
  for (const parent of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, parent))) {
      const dir = join(root, parent, name)
      const file = join(dir, 'package.json')
      if (!existsSync(file)) continue
      const pkg = JSON.parse(readFileSync(file, 'utf8'))
      if (pkg.private !== true) found.push({ dir, pkg })
    }
  }
  return found
}

try {
  const packages = publishable()
  const byName = new Map()
  for (const { dir, pkg } of packages) {
    const out = run('pnpm', ['pack', '--pack-destination', tarballs, '--json'], dir)
    const info = JSON.parse(out.slice(out.indexOf('{')))
    const tarball = info.filename ?? info[0]?.filename
    byName.set(pkg.name, { tarball, pkg, dir })
    const packed = run('tar', ['-xOzf', tarball, 'package/package.json'], work)
    if (packed.includes('workspace:')) fail(`${pkg.name}: the packed package.json still has a workspace: specifier`)
  }
  // The consumer depends on every tarball; overrides make the packages find each other's tarballs instead of the registry.
  const overrides = Object.fromEntries([...byName].map(([name, { tarball }]) => [name, `file:${tarball}`]))
  run('mkdir', ['-p', consumer], work)
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'igor-pack-check', private: true, type: 'module', dependencies: overrides }, null, 2))
  writeFileSync(join(consumer, 'pnpm-workspace.yaml'), `overrides:\n${Object.entries(overrides).map(([n, s]) => `  '${n}': '${s}'`).join('\n')}\n  '@libp2p/crypto': 5.1.8\n`)
  run('pnpm', ['install', '--prefer-offline', '--ignore-scripts', '--config.confirmModulesPurge=false'], consumer)
  for (const [name, { pkg }] of byName) {
    const entry = pkg.exports?.['.']
    if (entry === undefined) continue
    const script = `const m = await import(${JSON.stringify(name)}); if (Object.keys(m).length === 0) { console.error('no exports'); process.exit(1) }`
    try {
      run(process.execPath, ['--input-type=module', '-e', script], consumer)
      process.stdout.write(`ok   import ${name}@${pkg.version}\n`)
    } catch (error) {
      fail(`${name}: import failed outside the workspace: ${String(error.stderr ?? error.message).trim().split('\n')[0]}`)
    }
    for (const bin of Object.keys(pkg.bin ?? {})) {
      try {
        const out = run(join(consumer, 'node_modules', '.bin', bin), ['--help'], consumer)
        process.stdout.write(`ok   ${bin} --help (${out.trim().split('\n')[0]})\n`)
      } catch (error) {
        fail(`${name}: bin ${bin} --help failed: ${String(error.stderr ?? error.message).trim().split('\n')[0]}`)
      }
    }
  }
} catch (error) {
  fail(String(error.stderr ?? error.message).trim())
} finally {
  if (keep) process.stdout.write(`kept ${work}\n`)
  else rmSync(work, { recursive: true, force: true })
}
if (process.exitCode !== 1) process.stdout.write('pack-check: every package installs and imports outside the workspace\n')
