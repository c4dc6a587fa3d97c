import { spawn } from 'node:child_process'
import { request } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach } from 'vitest'
import { controlRequest } from '../src/control/client.js'
import type { AgentStatusJson, StatusJson } from '../src/control/protocol.js'

/** The built CLI: end-to-end tests drive exactly what users run. */
export const IGORD = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

export interface LogLine { level: number, msg: string, agentId?: string, [key: string]: unknown }

export async function tempDir(): Promise<{ path: string, remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'igor-e2e-'))
  return { path, remove: async () => rm(path, { recursive: true, force: true }) }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls until `check` gives a truthy value. The timeout only keeps a broken build from hanging CI. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last !== undefined ? ` (last error: ${(last as Error).message})` : ''}`)
    await sleep(25)
  }
}

/** Runs an igord subcommand to completion. */
export async function runCli(args: string[], timeoutMs = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [IGORD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** A running `igord` process with its parsed JSON log. */
export class Igord {
  readonly logs: LogLine[] = []
  stderr = ''
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly child: ChildProcess
  private partial = ''

  private constructor(readonly dataDir: string, args: string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [IGORD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env !== undefined ? { env: { ...process.env, ...env } } : {}) })
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk))
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk })
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })))
  }

  /**
   * Starts `igord` on `dataDir`, listening on a random loopback port unless
   * `--listen` is given. A leading word (`run`, `resume`) stays the subcommand.
   * `env` is added to this process's environment (e.g. `NODE_OPTIONS`).
   */
  static start(dataDir: string, args: string[] = [], env?: NodeJS.ProcessEnv): Igord {
    const listen = args.includes('--listen') ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0']
    const subcommand = args[0] !== undefined && !args[0].startsWith('-') ? [args[0]] : []
    return new Igord(dataDir, [...subcommand, '--data-dir', dataDir, ...listen, ...args.slice(subcommand.length)], env)
  }

  get pid(): number {
    return this.child.pid as number
  }

  /** Resolves once the node is listening (its agents are loaded by then). */
  async ready(): Promise<this> {
    await this.waitForLog('node listening', (l) => l.msg.startsWith('listening on'))
    return this
  }

  async waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    return waitFor(what, () => {
      const found = this.logs.find(match)
      if (found !== undefined) return found
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`igord exited (${this.child.exitCode ?? this.child.signalCode}): ${this.stderr.trim()}`)
      return undefined
    }, timeoutMs)
  }

  async status(): Promise<StatusJson> {
    const reply = await controlRequest(this.dataDir, 'GET', '/status', undefined, 10_000)
    return reply.body as StatusJson
  }

  async agent(agentId: string): Promise<AgentStatusJson | undefined> {
    return (await this.status()).agents.find((a) => a.agentId === agentId)
  }

  address(): string {
    const line = this.logs.find((l) => l.msg.startsWith('listening on'))
    const addresses = (line?.addresses as string[] | undefined) ?? []
    const loopback = addresses.find((a) => a.startsWith('/ip4/127.0.0.1/'))
    if (loopback === undefined) throw new Error(`no loopback address in ${JSON.stringify(addresses)}`)
    return loopback
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  /** SIGINT and wait: the clean shutdown path. */
  async stop(): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT')
    return this.exited
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT')
      this.child.kill('SIGKILL')
    }
    await this.exited
  }

  private onStdout(chunk: string): void {
    this.partial += chunk
    const lines = this.partial.split('\n')
    this.partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.trim() === '') continue
      try {
        this.logs.push(JSON.parse(line) as LogLine)
      } catch {
        this.logs.push({ level: 0, msg: line })
      }
    }
  }
}

/** Kills every node a test started, whatever happened. */
export class Nodes {
  private readonly all: Igord[] = []
  start(dataDir: string, args: string[] = [], env?: NodeJS.ProcessEnv): Igord {
    const node = Igord.start(dataDir, args, env)
    this.all.push(node)
    return node
  }
  async killAll(): Promise<void> {
    await Promise.all(this.all.splice(0).map(async (n) => n.kill()))
  }
}

/**
 * Per test: a fresh temporary directory (`dir.path`), and a `Nodes` whose
 * processes are killed, and the directory removed, after each test.
 * Registers the hooks, so call it at the top of a test file.
 */
export function useNodes(): { nodes: Nodes, dir: { readonly path: string } } {
  const nodes = new Nodes()
  let current: { path: string, remove: () => Promise<void> } | null = null
  beforeEach(async () => { current = await tempDir() })
  afterEach(async () => {
    await nodes.killAll()
    await current?.remove()
    current = null
  })
  const dir = {
    get path(): string {
      if (current === null) throw new Error('useNodes().dir is only there inside a test')
      return current.path
    }
  }
  return { nodes, dir }
}

/** Waits until `agentId` is the ticking owner on `node` with a tick number above `after` (default: any tick). */
export async function ticking(node: Igord, agentId: string, after = 0n): Promise<AgentStatusJson> {
  return waitFor(`${agentId} ticking past ${after} on ${node.dataDir}`, async () => {
    const a = await node.agent(agentId)
    return a !== undefined && a.state === 'ACTIVE_OWNER' && a.halted === null && BigInt(a.tickNumber) > after ? a : null
  }, 60_000)
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const probe = createNetServer()
  await new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(0, '127.0.0.1', resolve) })
  const port = (probe.address() as { port: number }).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** `GET /metrics` over the node's control socket (Prometheus text). */
export async function scrapeMetrics(dataDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dataDir, 'igord.sock'), path: '/metrics', method: 'GET', timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d })
      res.on('end', () => resolve(text))
    })
    req.on('timeout', () => req.destroy(new Error('GET /metrics timed out')))
    req.on('error', reject)
    req.end()
  })
}
