// From a clone to one's own running agent (issue 22, SPEC §14), outside the
// workspace and with npm only: `pnpm create-agent <dir>` (packs every package
// into ./dist-tarballs, writes a project whose package.json points at them with
// relative paths) → npm install → npm test (builds first) → npm start → the agent
// ticks (read with `igord status --json`) → SIGINT stops it cleanly → igord run
// again resumes it from its checkpoint and exits 0 on SIGINT.
// Needs a built workspace (`pnpm build`); skips, saying so, when the registry
// cannot be reached or IGOR_OFFLINE=1.
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../../..')

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
if (skipReason !== null) console.warn(`create-agent clone e2e skipped: ${skipReason}`)

// Under `pnpm run …` use that same pnpm (CI runs pnpm from npx).
const execPath = process.env.npm_execpath
const PNPM = execPath !== undefined && /pnpm/.test(execPath) ? (/\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm']

/** What a newcomer's shell has: no lifecycle variables of this test run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|INIT_CWD$|TURBO_|VITEST|PNPM_SCRIPT_SRC_DIR$|NODE_OPTIONS$)/.test(key)) env[key] = value
  }
  return { ...env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false', NO_COLOR: '1', CI: '1' }
}

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
}

let work = ''
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) try { process.kill(-(child.pid as number), 'SIGKILL') } catch { /* gone */ }
  if (work !== '') rmSync(work, { recursive: true, force: true })
})

interface Running { child: ChildProcess, output: () => string, done: Promise<{ code: number | null, signal: NodeJS.Signals | null }> }

/** A long-running command in its own process group, as a terminal would run it. */
function start(cmd: string, args: string[], cwd: string): Running {
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() })
  children.push(child)
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  const done = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  return { child, output: () => output, done }
}

/** The agent's tick count from `igord status --json` in the project (its ./igor-data), once it reaches `atLeast`. */
async function ticked(project: string, running: Running, atLeast: bigint): Promise<bigint> {
  const igord = join(project, 'node_modules', '.bin', 'igord')
  for (let i = 0; i < 240; i++) {
    if (running.child.exitCode !== null) throw new Error(`exited early: ${running.output()}`)
    try {
      const status = JSON.parse(run(igord, ['status', '--json', '--timeout', '5s'], project, 30_000)) as { agents: Array<{ agentId: string, tickNumber: string }> }
      const agent = status.agents.find((a) => a.agentId === 'agent')
      if (agent !== undefined && BigInt(agent.tickNumber) >= atLeast) return BigInt(agent.tickNumber)
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`the agent did not reach tick ${atLeast}: ${running.output()}`)
}

describe.skipIf(skipReason !== null)('pnpm create-agent, outside the workspace, with npm only', () => {
  it('creates, installs from local tarballs, builds, tests, starts, ticks, stops and resumes', async () => {
    work = mkdtempSync(join(tmpdir(), 'igor-clone-'))
    const project = join(work, 'my-agent')
    // --no-build: the test runs after `pnpm build`; the script would otherwise run turbo inside this test run.
    run(PNPM[0]!, [...PNPM.slice(1), 'create-agent', project, '--no-build'], root)
    const text = readFileSync(join(project, 'package.json'), 'utf8')
    const pkg = JSON.parse(text) as { devDependencies: Record<string, string>, overrides: Record<string, string>, scripts: Record<string, string> }
    expect(pkg.devDependencies.igord).toMatch(/^file:\.\.\/.*dist-tarballs\/igord-\d+\.\d+\.\d+\.tgz$/)
    expect(pkg.overrides['@igor/runner']).toMatch(/^file:\.\.\/.*dist-tarballs\/igor-runner-/)
    // Relative paths only: every file: specifier starts with ../ (the project is outside the clone).
    const specs = [...Object.values(pkg.devDependencies), ...Object.values(pkg.overrides)].filter((s) => s.startsWith('file:'))
    expect(specs.length).toBeGreaterThan(5)
    for (const spec of specs) expect(spec).toMatch(/^file:\.\.\//)
    expect(pkg.scripts.start).toBe('igord --run-agent build/agent.wasm --log-format pretty')

    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project, 600_000)
    const tested = run('npm', ['test'], project) // pretest builds build/agent.wasm
    expect(tested).toMatch(/built .*agent\.wasm/)
    expect(tested).toMatch(/2 passed/)

    // npm start (igord's default data dir ./igor-data); a free port instead of 4001.
    const first = start('npm', ['start', '--', '--listen', '/ip4/127.0.0.1/tcp/0'], project)
    const reached = await ticked(project, first, 2n)
    process.kill(-(first.child.pid as number), 'SIGINT') // Ctrl-C: the whole foreground group
    await first.done
    // npm re-raises a SIGINT it received itself; igord under it stopped cleanly.
    expect(first.output()).toMatch(/shutting down: final checkpoints[\s\S]*stopped/)

    // The project's igord again, on the same data: it resumes, and exits 0 on SIGINT.
    const second = start(join(project, 'node_modules', '.bin', 'igord'), ['--run-agent', 'build/agent.wasm', '--log-format', 'pretty', '--listen', '/ip4/127.0.0.1/tcp/0'], project)
    await ticked(project, second, reached + 1n)
    process.kill(-(second.child.pid as number), 'SIGINT')
    expect(await second.done).toEqual({ code: 0, signal: null })
    expect(second.output()).toMatch(/\[agent\] agent resumed from checkpoint .*"resumed":true/)
  }, 900_000)
})

describe('pnpm create-agent refusals', () => {
  it('refuses a folder inside the clone (exit 2, one line) and writes nothing', () => {
    const inside = join(root, 'my-agent-inside-the-clone')
    let failure: { status: number | null, stderr: string } | undefined
    try {
      run(PNPM[0]!, [...PNPM.slice(1), 'create-agent', inside, '--no-build'], root, 120_000)
    } catch (error) {
      failure = error as { status: number | null, stderr: string }
    }
    expect(failure?.status).toBe(2)
    expect(failure?.stderr).toContain(`create-agent: ${inside} is inside this repository`)
    expect(failure?.stderr).toContain('pnpm create-agent ../my-agent-inside-the-clone')
    expect(existsSync(inside)).toBe(false)
  })
})
