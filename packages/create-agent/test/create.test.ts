// The starter, offline: generate a project outside the workspace, link the
// workspace's SDK, compiler and vitest into it, then build it, run its own
// unit test and run the module under `igord simulate`.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CreateAgentError, createAgent, packageName } from '../src/create.js'

const here = import.meta.dirname
const sdkDir = resolve(here, '../../sdk')
const igord = resolve(here, '../../../apps/igord/dist/cli.js')
const requireFromSdk = createRequire(join(sdkDir, 'package.json'))
const requireHere = createRequire(import.meta.url)

let work = ''
beforeAll(() => { work = mkdtempSync(join(tmpdir(), 'igor-create-agent-')) })
afterAll(() => { if (work !== '') rmSync(work, { recursive: true, force: true }) })

/** The folder of an installed package, found from `from`. */
function packageDir(require: NodeJS.Require, name: string): string {
  let dir = dirname(realpathSync(require.resolve(`${name}/package.json`)))
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) dir = dirname(dir)
  return dir
}

function link(project: string, name: string, target: string): void {
  const at = join(project, 'node_modules', name)
  mkdirSync(dirname(at), { recursive: true })
  symlinkSync(target, at, 'dir')
}

describe('createAgent', () => {
  it('writes a project that builds, passes its own test, and runs under igord simulate', () => {
    const created = createAgent({ dir: 'My Agent', sdk: sdkDir, cwd: work })
    expect(created.name).toBe('my-agent')
    expect([...created.files].sort()).toEqual(['.gitignore', 'MANIFEST.md', 'README.md', 'agent.manifest.json', 'assembly/index.ts', 'assembly/tsconfig.json', 'package.json', 'test/agent.test.ts'])
    const pkg = JSON.parse(readFileSync(join(created.dir, 'package.json'), 'utf8'))
    // Relative to the project, never absolute (issue 22).
    expect(pkg.devDependencies['@igor/sdk']).toBe(`file:${relative(created.dir, sdkDir)}`)
    expect(pkg.devDependencies.igord).toBe('^0.1.0')
    expect(pkg.scripts).toEqual({ build: 'igor-build', pretest: 'npm run build', test: 'vitest run', start: 'igord --run-agent build/agent.wasm --log-format pretty' })

    // What `npm install` would put there, from the workspace (no network).
    link(created.dir, '@igor/sdk', sdkDir)
    link(created.dir, 'assemblyscript', packageDir(requireFromSdk, 'assemblyscript'))
    link(created.dir, 'vitest', packageDir(requireHere, 'vitest'))

    const build = execFileSync(process.execPath, [join(sdkDir, 'dist/cli.js')], { cwd: created.dir, encoding: 'utf8' })
    expect(build).toMatch(/^built .*build\/agent\.wasm \(\d+ bytes, capabilities: .*http.*\)\n$/)
    expect(existsSync(join(created.dir, 'build/agent.manifest.json'))).toBe(true)

    const vitestBin = join(packageDir(requireHere, 'vitest'), 'vitest.mjs')
    const tested = execFileSync(process.execPath, [vitestBin, 'run', '--root', created.dir], { cwd: created.dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1' } })
    expect(tested).toMatch(/2 passed/)

    // igord runs the module (simulate: no network, so the status check fails and is logged, not fatal).
    const simulated = execFileSync(process.execPath, [igord, 'simulate', join(created.dir, 'build/agent.wasm'), '--ticks', '12', '--verify'], { encoding: 'utf8' })
    expect(simulated).toMatch(/check 1 at tick 1: failed with -/)
    expect(simulated).toMatch(/ticks_executed=12 .* replay_failed=0 errors=0/)
  }, 120_000)

  it('refuses a folder that is not empty, and a missing --sdk', () => {
    const busy = join(work, 'busy')
    mkdirSync(busy)
    writeFileSync(join(busy, 'x'), '')
    expect(() => createAgent({ dir: busy })).toThrow(CreateAgentError)
    expect(() => createAgent({ dir: join(work, 'fresh'), sdk: join(work, 'nope.tgz') })).toThrow(/--sdk .*no such file/)
    expect(existsSync(join(work, 'fresh'))).toBe(false)
  })

  it('points every Igor package at a pack-all folder with relative paths (--tarballs)', () => {
    const tarballs = join(work, 'clone', 'dist-tarballs')
    mkdirSync(tarballs, { recursive: true })
    const index: Record<string, { file: string, version: string }> = {}
    for (const [name, file] of [['@igor/sdk', 'igor-sdk-0.1.0.tgz'], ['igord', 'igord-0.1.0.tgz'], ['@igor/runner', 'igor-runner-0.1.0.tgz'], ['@igor/create-agent', 'igor-create-agent-0.1.0.tgz']] as const) {
      writeFileSync(join(tarballs, file), '')
      index[name] = { file, version: '0.1.0' }
    }
    writeFileSync(join(tarballs, 'tarballs.json'), JSON.stringify(index))
    const created = createAgent({ dir: 'elsewhere/agent-one', tarballs: 'clone/dist-tarballs', cwd: work })
    const text = readFileSync(join(created.dir, 'package.json'), 'utf8')
    const pkg = JSON.parse(text)
    expect(pkg.devDependencies['@igor/sdk']).toBe('file:../../clone/dist-tarballs/igor-sdk-0.1.0.tgz')
    expect(pkg.devDependencies.igord).toBe('file:../../clone/dist-tarballs/igord-0.1.0.tgz')
    expect(pkg.overrides).toEqual({
      '@igor/sdk': 'file:../../clone/dist-tarballs/igor-sdk-0.1.0.tgz',
      igord: 'file:../../clone/dist-tarballs/igord-0.1.0.tgz',
      '@igor/runner': 'file:../../clone/dist-tarballs/igor-runner-0.1.0.tgz'
    })
    expect(text).not.toContain(work)
    expect(readFileSync(join(created.dir, 'README.md'), 'utf8')).toContain('local tarballs')

    expect(() => createAgent({ dir: join(work, 'agent-two'), tarballs: join(work, 'nowhere') })).toThrow(/--tarballs .*no tarballs\.json there \(make it with pnpm run pack-all\)/)
    writeFileSync(join(tarballs, 'tarballs.json'), JSON.stringify({ '@igor/sdk': index['@igor/sdk'] }))
    expect(() => createAgent({ dir: join(work, 'agent-three'), tarballs })).toThrow(/lists no igord tarball/)
  })

  it('explains every manifest field in MANIFEST.md and tells the effect contract truthfully', () => {
    const created = createAgent({ dir: 'docs-agent', cwd: work })
    const doc = readFileSync(join(created.dir, 'MANIFEST.md'), 'utf8')
    const manifest = JSON.parse(readFileSync(join(created.dir, 'agent.manifest.json'), 'utf8'))
    const fields = [...Object.keys(manifest.capabilities), ...Object.keys(manifest.capabilities.http.options), ...Object.keys(manifest.resource_limits), ...Object.keys(manifest.migration_policy)]
    for (const field of fields) expect(doc).toContain(`\`${field}\``)
    expect(doc).toMatch(/without scheme or port/)
    expect(doc).toMatch(/both http:\/\/ and https:\/\//)
    expect(doc).toContain('--http-allow')
    const readme = readFileSync(join(created.dir, 'README.md'), 'utf8')
    expect(readme).toMatch(/at-least-once/)
    expect(readme).toMatch(/exactly once/)
    expect(readme).toContain('EffectLog')
    expect(readme).not.toMatch(/github\.com/)
    expect(readme).not.toMatch(/never repeat|without repeating/)
  })

  it('derives npm package names from folder names', () => {
    expect(packageName('/x/My Cool_Agent!')).toBe('my-cool_agent')
    expect(packageName('.hidden')).toBe('hidden')
    expect(() => packageName('!!!')).toThrow(CreateAgentError)
  })
})
