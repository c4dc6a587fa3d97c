#!/usr/bin/env node
// `pnpm run pack-all [--out <dir>]` (issue 22): installable tarballs of every
// publishable package, before anything is published. `pnpm pack` rewrites each
// internal `workspace:^` into `^x.y.z`; `pnpm create-agent` then points a new
// project at these files (npm `overrides`) so those ranges resolve here, not
// on the registry. Default folder: ./dist-tarballs at the repository root.
// Needs a build first (`pnpm build`); stdout lists one tarball a line.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { INDEX_FILE, checkTarball, packOne, publishable, root } from './pack-lib.mjs'

export const DEFAULT_OUT = join(root, 'dist-tarballs')

/** Packs every publishable package into `out` (old tarballs there are removed) and writes `tarballs.json`. */
export function packAll(out = DEFAULT_OUT) {
  mkdirSync(out, { recursive: true })
  for (const file of readdirSync(out)) if (file.endsWith('.tgz')) rmSync(join(out, file))
  const index = {}
  const problems = []
  for (const { dir, pkg } of publishable()) {
    const tarball = packOne(dir, out)
    index[pkg.name] = { file: basename(tarball), version: pkg.version }
    for (const problem of checkTarball(tarball, dir)) problems.push(`${pkg.name}: ${problem}`)
  }
  writeFileSync(join(out, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`)
  return { out, index, problems }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--out')
  const base = process.env.INIT_CWD ?? process.cwd()
  const out = at === -1 ? DEFAULT_OUT : resolve(base, process.argv[at + 1] ?? '')
  try {
    const packed = packAll(out)
    for (const { file } of Object.values(packed.index)) process.stdout.write(`${relative(base, join(out, file)) || file}\n`)
    for (const problem of packed.problems) process.stderr.write(`pack-all: ${problem}\n`)
    if (packed.problems.length > 0) process.exitCode = 1
  } catch (error) {
    process.stderr.write(`pack-all: ${String(error.stderr ?? error.message).trim().split('\n')[0]}\n`)
    process.exitCode = 1
  }
}
