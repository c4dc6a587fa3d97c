// The script-safe entry point (issue 22, SPEC §14): from the repository root,
// `pnpm igord <args>` prints exactly igord's stdout and passes its exit code
// through (so `pnpm igord status --json | jq .` works), and `pnpm start` ends
// quietly after Ctrl-C on a terminal (exit 0, no `[ELIFECYCLE]` line).
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runCli, useNodes } from './harness.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const { dir } = useNodes()

/** Only what an operator's shell would have: no vitest/turbo/npm lifecycle variables from this test run. */
function operatorEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|INIT_CWD$|TURBO_|VITEST|PNPM_SCRIPT_SRC_DIR$)/.test(key)) env[key] = value
  }
  return { ...env, TURBO_TELEMETRY_DISABLED: '1' }
}

// The pnpm running these tests (CI runs it from npx, not from PATH), else the one on PATH.
const execPath = process.env.npm_execpath
const PNPM = execPath !== undefined && /pnpm/.test(execPath) ? (/\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm']

async function pnpm(args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(PNPM[0]!, [...PNPM.slice(1), ...args], { cwd: ROOT, env: operatorEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  return { code, stdout, stderr }
}

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0

describe('pnpm igord <args> from the repository root (SPEC §14)', () => {
  it('prints exactly igord --version on stdout, exit 0', async () => {
    const direct = await runCli(['--version'])
    const viaPnpm = await pnpm(['igord', '--version'])
    expect(viaPnpm.stdout).toBe(direct.stdout)
    expect(viaPnpm.code).toBe(0)
  })

  it('passes status --json output and its exit code through, and 2 for a usage error', async () => {
    const empty = join(dir.path, 'empty')
    const direct = await runCli(['status', '--json', '--data-dir', empty])
    const viaPnpm = await pnpm(['igord', 'status', '--json', '--data-dir', empty])
    expect(viaPnpm.stdout).toBe(direct.stdout)
    expect(viaPnpm.code).toBe(direct.code)
    expect(viaPnpm.stderr).toContain(direct.stderr.trim())

    const usage = await pnpm(['igord', 'status', '--jsno', '--data-dir', empty])
    expect(usage.code).toBe(2)
    expect(usage.stdout).toBe('')
    expect(usage.stderr).toContain('igord: unknown flag --jsno')
  })

  // A real terminal (util-linux `script` gives the command a pty): Ctrl-C is a key press there.
  it.skipIf(!hasScript)('pnpm start ends quietly after Ctrl-C: exit 0, no ELIFECYCLE', async () => {
    const data = join(dir.path, 'start-data')
    const command = `${PNPM.join(' ')} start --data-dir '${data}' --listen /ip4/127.0.0.1/tcp/0`
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT, env: operatorEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
    const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    try {
      for (let i = 0; !/survivor tick 2 /.test(output); i++) {
        if (child.exitCode !== null || i > 1200) throw new Error(`pnpm start did not tick: ${output}`)
        await new Promise((r) => setTimeout(r, 250))
      }
      child.stdin.write('\x03') // Ctrl-C
      expect(await code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    expect(output).toContain('stopped')
    expect(output).not.toContain('ELIFECYCLE')
  }, 360_000)
})
