#!/usr/bin/env node
// Packages as products (issue 11, SPEC §1): `pnpm pack` every publishable
// package, install the tarballs into an empty folder outside the workspace,
// and import each one (and run the bins) from there. Proves the tarballs
// carry no `workspace:` specifiers, ship their built files, and resolve
// each other by semver range like any registry install would.
//
// It also checks the publishing metadata (issue 22): a LICENSE in every
// tarball, `license` and `repository`, and changesets' `access: "public"`.
// The packing itself is shared with `pnpm run pack-all` (scripts/pack-lib.mjs).
//
// Usage: pnpm run pack-check   (after `pnpm build`; exit 0 = all good; --keep keeps the folder)
// External dependencies come from the npm registry (or pnpm's store, offline first).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkChangesetAccess, checkTarball, packOne, publishable, run } from './pack-lib.mjs'

const keep = process.argv.includes('--keep')
const work = mkdtempSync(join(tmpdir(), 'igor-pack-check-'))
const tarballs = join(work, 'tarballs')
const consumer = join(work, 'consumer')

function fail(message) {
  process.stderr.write(`pack-check: ${message}\n`)
  process.exitCode = 1
}

try {
  const packages = publishable()
  const byName = new Map()
  for (const { dir, pkg } of packages) {
    const tarball = packOne(dir, tarballs)
    byName.set(pkg.name, { tarball, pkg, dir })
    // Publishing metadata (issue 22 §9): LICENSE inside, license, repository; no workspace: left.
    for (const problem of checkTarball(tarball, dir)) fail(`${pkg.name}: ${problem}`)
  }
  for (const problem of checkChangesetAccess()) fail(problem)
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
