import { spawn } from 'node:child_process'
import { access } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { IGORD, runCli, useNodes, waitFor } from './harness.js'

// Issue 22 point 7: each rough edge a new user hit, driven through the real command.

const { nodes, dir } = useNodes()
const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

async function runWithEnv(args: string[], env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [IGORD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

async function metricsText(dataDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dataDir, 'igord.sock'), path: '/metrics', method: 'GET' }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the command line a new user meets (issue 22)', () => {
  it('a Go-style single-dash flag is refused with the spelling igord takes (it printed help and exited 0)', async () => {
    const go = await runCli(['-checkpoint', 'x.ckpt'])
    expect(go.code).toBe(2)
    expect(go.stdout).toBe('')
    expect(go.stderr).toBe('igord: single-dash flag -checkpoint for igord: long flags take two dashes; did you mean --inspect-checkpoint? (see igord --help)\n')
    const to = await runCli(['migrate', 'a', '-to', 'x'])
    expect(to.code).toBe(2)
    expect(to.stderr).toMatch(/single-dash flag -to for igord migrate: long flags take two dashes; igord spells it --to/)
  })

  it('"did you mean" for subcommands and flags', async () => {
    const sub = await runCli(['statsu'])
    expect(sub.code).toBe(2)
    expect(sub.stderr).toBe('igord: unknown subcommand "statsu"; did you mean igord status? (see igord --help)\n')
    const flag = await runCli(['status', '--jsn'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe('igord: unknown flag --jsn for igord status; did you mean --json? (see igord status --help)\n')
  })

  it('IGOR_LOG_LEVEL=bogus is refused by every subcommand alike', async () => {
    for (const args of [['status', '--data-dir', join(dir.path, 'none')], ['run', agentPath('counter'), '--data-dir', join(dir.path, 'none')]]) {
      const r = await runWithEnv(args, { IGOR_LOG_LEVEL: 'bogus' })
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/^igord: IGOR_LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, got "bogus"/)
    }
    expect(await exists(join(dir.path, 'none'))).toBe(false)
  })

  it('run with a missing wasm says so before it creates a data dir or a key', async () => {
    const data = join(dir.path, 'fresh')
    const r = await runCli(['run', join(dir.path, 'nope.wasm'), '--data-dir', data])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`igord: ${join(dir.path, 'nope.wasm')}: no such file\n`)
    expect(await exists(data)).toBe(false)
  })

  it('simulate --help says http answers -1 and nothing leaves the process', async () => {
    const r = await runCli(['simulate', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('http_request answers -1')
  })

  it('verify takes a data dir (one agent) and prints --json; retire --json of the owner is still one refusal line; a halt is counted when it happens', async () => {
    const data = join(dir.path, 'A')
    const node = await nodes.start(data, ['--run-agent', agentPath('counter'), '--run-agent', agentPath('trapper')]).ready()
    await waitFor('counter ticking', async () => BigInt((await node.agent('counter'))?.tickNumber ?? '0') > 1n ? true : null, 60_000)
    await waitFor('trapper halted', async () => (await node.agent('trapper'))?.halted ?? null, 60_000)
    // Counted when it happened, before any scrape saw it.
    expect(await metricsText(data)).toMatch(/\nigor_halts_total\{reason="[a-z_]+"\} 1\n/)
    const refused = await runCli(['retire', 'counter', '--json', '--data-dir', data])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^igord: .*ACTIVE_OWNER/)
    const stopped = await node.stop()
    expect(stopped.code).toBe(0)
    const several = await runCli(['verify', data])
    expect(several.code).toBe(1)
    expect(several.stderr).toMatch(/^igord: .* holds the histories of 2 agents \(counter, trapper\): verify one, e\.g\. igord verify /)
    const one = await runCli(['verify', join(data, 'checkpoints', 'history', 'counter'), '--json'])
    expect(one.stderr).toBe('')
    expect(one.code).toBe(0)
    const result = JSON.parse(one.stdout) as { valid: boolean, agentDid: string, firstTick: string, lastTick: string, errors: string[] }
    expect(result.valid).toBe(true)
    expect(result.agentDid).toMatch(/^did:key:z6Mk/)
    expect(BigInt(result.lastTick)).toBeGreaterThan(0n)
    expect(result.errors).toEqual([])
  })
})
