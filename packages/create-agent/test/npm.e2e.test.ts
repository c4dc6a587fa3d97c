// The starter as a stranger uses it (issue 10 "done means"): pack the SDK with
// `pnpm pack`, generate a project outside the workspace with `--sdk <tarball>`,
// then `npm install && npm run build && npm test` against the npm registry
// (assemblyscript, vitest), and run the module under `igord simulate`.
// Skips, saying so, when the registry cannot be reached or IGOR_OFFLINE=1.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const here = import.meta.dirname
const sdkDir = resolve(here, '../../sdk')
const cli = resolve(here, '../dist/cli.js')
const igord = resolve(here, '../../../apps/igord/dist/cli.js')

function registryReachable(): string | null {
  if (process.env.IGOR_OFFLINE === '1') return 'IGOR_OFFLINE=1'
  try {
    execFileSync('npm', ['ping'], { stdio: 'ignore', timeout: 15_000 })
    return null
  } catch {
    return 'the npm registry is not reachable (npm ping failed)'
  }
}

const skipReason = registryReachable()
if (skipReason !== null) console.warn(`create-agent npm e2e skipped: ${skipReason}`)

// Under `pnpm run …` use that same pnpm (CI runs pnpm from npx).
const execPath = process.env.npm_execpath
const PNPM = execPath !== undefined && /pnpm/.test(execPath) ? (/\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm']

let work = ''
afterAll(() => { if (work !== '') rmSync(work, { recursive: true, force: true }) })

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', NO_COLOR: '1', CI: '1' } })
}

describe.skipIf(skipReason !== null)('npm create @igor/agent, outside the workspace', () => {
  it('npm install && npm run build && npm test pass, and igord runs the module', () => {
    work = mkdtempSync(join(tmpdir(), 'igor-starter-'))
    const tarballs = join(work, 'tarballs')
    run(PNPM[0]!, [...PNPM.slice(1), 'pack', '--pack-destination', tarballs], sdkDir)
    const tarball = join(tarballs, readdirSync(tarballs).find((f) => f.endsWith('.tgz'))!)

    expect(run(process.execPath, [cli, 'my-agent', '--sdk', tarball], work)).toMatch(/^created my-agent in my-agent\n/)
    const project = join(work, 'my-agent')
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project)
    expect(run('npm', ['run', 'build'], project)).toMatch(/built .*agent\.wasm/)
    expect(run('npm', ['test'], project)).toMatch(/2 passed/)
    const simulated = run(process.execPath, [igord, 'simulate', join(project, 'build/agent.wasm'), '--ticks', '3'], project)
    expect(simulated).toMatch(/ticks_executed=3 .*errors=0/)
  }, 600_000)
})
