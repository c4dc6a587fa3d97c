// Shared by pack-all.mjs and pack-check.mjs (issue 22): find the publishable
// workspace packages, `pnpm pack` them (pnpm rewrites `workspace:^` into the
// `^x.y.z` a registry install would see), and check what each tarball holds.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

export const root = resolve(import.meta.dirname, '..')

/** The file `pack-all` writes beside the tarballs: `{ "<package name>": { "file": "<tgz>", "version": "x.y.z" } }`. */
export const INDEX_FILE = 'tarballs.json'

// Under `pnpm run …` (as .ci/run does, with pnpm from npx) use that same pnpm.
const execPath = process.env.npm_execpath
export const PNPM = execPath !== undefined && /pnpm/.test(execPath) ? (/\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm']

export function run(cmd, args, cwd) {
  const [file, ...prefix] = cmd === 'pnpm' ? PNPM : [cmd]
  return execFileSync(file, [...prefix, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } })
}

/** Publishable packages: every workspace package under packages/ and apps/ that is not private. */
export function publishable() {
  const found = []
  for (const parent of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, parent)).sort()) {
      const dir = join(root, parent, name)
      const file = join(dir, 'package.json')
      if (!existsSync(file)) continue
      const pkg = JSON.parse(readFileSync(file, 'utf8'))
      if (pkg.private !== true) found.push({ dir, pkg })
    }
  }
  return found
}

/** `pnpm pack` one package into `dest`; returns the tarball's absolute path. */
export function packOne(dir, dest) {
  const out = run('pnpm', ['pack', '--pack-destination', dest, '--json'], dir)
  const info = JSON.parse(out.slice(out.indexOf('{')))
  const tarball = info.filename ?? info[0]?.filename
  return resolve(dest, tarball)
}

/**
 * What must hold for a packed package (issue 22 §9): no `workspace:` left, a
 * LICENSE in the tarball, `license`, and `repository` naming this repository's
 * folder. Returns one line per problem (empty = fine).
 */
export function checkTarball(tarball, dir) {
  const problems = []
  const listing = run('tar', ['-tzf', tarball], root).split('\n')
  const packed = JSON.parse(run('tar', ['-xOzf', tarball, 'package/package.json'], root))
  const text = JSON.stringify(packed)
  if (text.includes('workspace:')) problems.push('the packed package.json still has a workspace: specifier')
  if (!listing.includes('package/LICENSE')) problems.push('no LICENSE in the tarball')
  if (typeof packed.license !== 'string' || packed.license === '') problems.push('no "license"')
  const directory = relative(root, dir).split('\\').join('/')
  if (packed.repository?.type !== 'git' || packed.repository?.directory !== directory) {
    problems.push(`"repository" must be { "type": "git", "directory": "${directory}" } (got ${JSON.stringify(packed.repository)})`)
  }
  // No public address exists for this repository yet (packages/README "Packages and releases"): a url, homepage or bugs, once set, must be https.
  for (const [field, value] of [['repository.url', packed.repository?.url], ['homepage', packed.homepage], ['bugs', packed.bugs?.url ?? packed.bugs]]) {
    if (value !== undefined && !/^(git\+)?https:\/\//.test(String(value))) problems.push(`"${field}" is not an https URL: ${JSON.stringify(value)}`)
  }
  return problems
}

/** Changesets must publish the scoped packages as public (issue 22 §9): `"access": "public"`. */
export function checkChangesetAccess() {
  const config = JSON.parse(readFileSync(join(root, '.changeset', 'config.json'), 'utf8'))
  return config.access === 'public' ? [] : [`.changeset/config.json: "access" is ${JSON.stringify(config.access)}, scoped packages would publish as private (want "public")`]
}
