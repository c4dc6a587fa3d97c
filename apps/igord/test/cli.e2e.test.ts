import { spawn } from 'node:child_process'
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agentPath, manifestPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { controlRequest } from '../src/control/client.js'
import { SUBCOMMANDS } from '../src/args.js'
import { runCli, useNodes, waitFor } from './harness.js'

/** The repository root: SPEC §14 says `pnpm --filter igord start -- <args>` works from there. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const { nodes, dir } = useNodes()

interface Pnpm { code: Promise<number | null>, output: () => string, stop: () => void }

/** `pnpm <args>` from the repository root, in its own process group so a stop reaches igord under pnpm and sh. */
function pnpm(args: string[]): Pnpm {
  // Only what an operator's shell would have: no vitest/turbo/npm lifecycle variables from this test run.
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|INIT_CWD$|TURBO_|VITEST|PNPM_SCRIPT_SRC_DIR$)/.test(key)) env[key] = value
  }
  env.TURBO_TELEMETRY_DISABLED = '1'
  // The pnpm running these tests (CI runs it from npx, not from PATH), else the one on PATH.
  const execPath = process.env.npm_execpath
  const [command, ...prefix] = execPath !== undefined && /pnpm/.test(execPath) ? (/\.c?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]) : ['pnpm']
  const child = spawn(command, [...prefix, ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  return {
    code,
    output: () => output,
    stop: () => { try { process.kill(-(child.pid as number), 'SIGINT') } catch { /* already gone */ } }
  }
}

describe('igord for operators (SPEC §14)', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^igord \d+\.\d+\.\d+ \(node v20\.\d+\.\d+\)\n$/)
  })

  it('answers --help on every subcommand with exit 0', async () => {
    for (const name of [...Object.keys(SUBCOMMANDS), null]) {
      const result = await runCli(name === null ? ['--help'] : [name, '--help'])
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^Usage:/)
      expect(result.stdout).toContain('Exit codes: 0 success, 1 failure')
      expect(result.stderr).toBe('')
    }
  })

  it('answers an unknown flag with its name and a pointer to --help (exit 2)', async () => {
    const result = await runCli(['status', '--data-dir', dir.path, '--jsno'])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('igord: unknown flag --jsno for igord status (see igord status --help)\n')
  })

  it('says plainly when a frozen node does not answer, for status, recover and migrate', async () => {
    const node = await nodes.start(dir.path).ready()
    node.signal('SIGSTOP')
    try {
      const runs = [
        ['status', '--data-dir', dir.path, '--timeout', '300ms'],
        ['recover', 'counter', '--data-dir', dir.path, '--timeout', '300ms'],
        ['migrate', 'counter', '--to', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', '--data-dir', dir.path, '--timeout', '300ms']
      ]
      for (const args of runs) {
        const result = await runCli(args)
        expect(result.code).toBe(1)
        expect(result.stderr).toMatch(/^igord: the node did not answer within 300ms \(control socket .*igord\.sock\); it may be stopped or overloaded/)
        expect(result.stderr.trim().split('\n')).toHaveLength(1)
      }
    } finally {
      node.signal('SIGCONT')
    }
    expect((await node.status()).node.peerId).not.toBeNull() // it answers again once resumed
  })

  it('fails fast on a port in use, naming the address, before any agent starts', async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      const node = nodes.start(dir.path, ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--run-agent', agentPath('counter')])
      const { code } = await node.exited
      expect(code).toBe(1)
      expect(node.stderr).toBe(`igord: cannot listen on /ip4/127.0.0.1/tcp/${port}: address already in use (another igord or program holds the port; choose another with --listen)\n`)
      expect(node.logs.some((l) => l.agentId === 'counter')).toBe(false) // no agent was started
      await expect(readdir(join(dir.path, 'checkpoints'))).resolves.toEqual([])
    } finally {
      holder.close()
    }
  })

  it('runs every *.wasm of a directory with --run-agents, loading them in parallel', async () => {
    const agents = join(dir.path, 'agents')
    await mkdir(agents)
    for (const id of ['c1', 'c2', 'c3']) {
      await copyFile(agentPath('counter'), join(agents, `${id}.wasm`))
      await copyFile(manifestPath('counter'), join(agents, `${id}.manifest.json`))
    }
    await writeFile(join(agents, 'README.txt'), 'not an agent')
    const node = await nodes.start(join(dir.path, 'data'), ['--run-agents', agents]).ready()
    expect(node.logs.find((l) => l.msg === '3 agent(s) started')).toBeDefined()
    await waitFor('all three ticking', async () => {
      const rows = (await node.status()).agents
      return rows.length === 3 && rows.every((a) => BigInt(a.tickNumber) >= 1n)
    })
    expect((await node.status()).agents.map((a) => a.agentId)).toEqual(['c1', 'c2', 'c3'])
  })

  it('runs from the repository root with pnpm --filter igord start -- <args>, paths relative to the root', async () => {
    // A relative data dir and the README's relative agent path, as an operator types them at the root.
    const dataDir = relative(ROOT, join(dir.path, 'data'))
    const run = pnpm(['--filter', 'igord', 'start', '--', '--run-agent', 'agents/build/counter.wasm', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'debug'])
    try {
      const status = await waitFor('the agent ticking under pnpm', async () => {
        const exited = await Promise.race([run.code, Promise.resolve('running')])
        if (exited !== 'running') throw new Error(`pnpm exited ${String(exited)}: ${run.output()}`)
        const reply = await controlRequest(join(dir.path, 'data'), 'GET', '/status', undefined, 5000)
        const agent = (reply.body as { agents: Array<{ agentId: string, tickNumber: string }> }).agents.find((a) => a.agentId === 'counter')
        return agent !== undefined && BigInt(agent.tickNumber) >= 1n ? agent : undefined
      }, 120_000)
      expect(status.agentId).toBe('counter')
    } finally {
      run.stop()
    }
    await run.code
    expect(run.output()).toContain('"level":20') // --log-level debug reached the node
  })

  it('runs pnpm --filter igord start -- --version from the repository root', async () => {
    const run = pnpm(['--filter', 'igord', 'start', '--', '--version'])
    expect(await run.code).toBe(0)
    expect(run.output()).toMatch(/igord \d+\.\d+\.\d+ \(node v20/)
  })
})
