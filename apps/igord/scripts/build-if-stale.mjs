// Build igord and everything it needs, but only when something changed
// (issue 22, SPEC §14): `pnpm igord <args>` must print igord's own stdout and
// nothing else, so the build runs only when a source file is newer than that
// package's build output, and turbo's output goes to stderr.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '../../..')
const OUTPUTS = ['dist', 'build']
const SKIP = new Set(['node_modules', '.turbo', 'coverage', 'test', ...OUTPUTS])
// When turbo last built igord... successfully (its mtime = when that build started). A cache
// hit does not rewrite dist/, so without it a touched-but-unchanged file would run turbo every time.
const STAMP = join(root, 'node_modules', '.cache', 'igord-build-stamp')

/** Workspace folders by package name (packages/*, apps/*, agents). */
function workspace() {
  const dirs = new Map()
  const candidates = ['agents', ...['packages', 'apps'].flatMap((parent) => readdirSync(join(root, parent)).map((name) => join(parent, name)))]
  for (const dir of candidates) {
    const file = join(root, dir, 'package.json')
    if (existsSync(file)) dirs.set(JSON.parse(readFileSync(file, 'utf8')).name, join(root, dir))
  }
  return dirs
}

/** igord and its workspace dependencies, dev dependencies included (the example agents are one), transitively. */
function closure(name, dirs, seen = new Map()) {
  const dir = dirs.get(name)
  if (dir === undefined || seen.has(name)) return seen
  seen.set(name, dir)
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  for (const [dep, spec] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
    if (String(spec).startsWith('workspace:')) closure(dep, dirs, seen)
  }
  return seen
}

/** The newest modification time under `dir` (skipping `skip`, tests and Markdown, as turbo's build inputs do), or -1 when there is no file. */
function newest(dir, skip) {
  let latest = -1
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) latest = Math.max(latest, newest(path, new Set()))
    else if (entry.isFile() && !/\.test\.[cm]?[jt]s$|\.md$/.test(entry.name)) latest = Math.max(latest, statSync(path).mtimeMs)
  }
  return latest
}

/** Names of the packages whose build output is missing or older than a source file. */
export function stalePackages() {
  const stamp = existsSync(STAMP) ? statSync(STAMP).mtimeMs : -1
  const stale = []
  for (const [name, dir] of closure('igord', workspace())) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    if (pkg.scripts?.build === undefined) continue
    const built = Math.max(-1, ...OUTPUTS.filter((out) => existsSync(join(dir, out))).map((out) => newest(join(dir, out), new Set())))
    if (built < 0 || newest(dir, SKIP) > Math.max(built, stamp)) stale.push(name)
  }
  return stale
}

/** Runs turbo for igord and its dependencies when anything is stale; its output goes to stderr. Returns turbo's exit code (0 when nothing ran). */
export function buildIfStale() {
  if (process.env.IGORD_SKIP_BUILD === '1') return 0 // run whatever dist/ holds (CI after its own build, or a checkout mid-edit)
  const stale = stalePackages()
  if (stale.length === 0) return 0
  process.stderr.write(`igord: building (${stale.join(', ')} changed)\n`)
  const turbo = join(root, 'node_modules', '.bin', 'turbo')
  const started = new Date()
  const result = spawnSync(turbo, ['run', 'build', '--filter=igord...', '--output-logs=errors-only'], { cwd: root, stdio: ['ignore', 2, 2] })
  if (result.status === 0) {
    mkdirSync(dirname(STAMP), { recursive: true })
    writeFileSync(STAMP, '')
    utimesSync(STAMP, started, started)
  }
  return result.status ?? 1
}
