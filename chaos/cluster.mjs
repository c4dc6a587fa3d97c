// A cluster of real igord processes on 127.0.0.1 for the chaos suite (issue 12 item 5).
// Every operator action goes through the igord CLI; status reads go to the control socket.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { copyFile, mkdir } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const IGORD = join(ROOT, 'apps/igord/dist/cli.js')
const AGENT = join(ROOT, 'agents/build/counter.wasm')
const MANIFEST = join(ROOT, 'agents/build/counter.manifest.json')

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** GET /status over the node's control socket; null when it does not answer in time (down, stopped). */
export async function readStatus(dataDir, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const req = request({ socketPath: join(dataDir, 'igord.sock'), path: '/status', method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))) } catch { resolve(null) }
      })
      res.on('error', () => resolve(null))
    })
    req.on('timeout', () => { req.destroy(); resolve(null) })
    req.on('error', () => resolve(null))
    req.end()
  })
}

/** Runs one igord subcommand (the operator's only way in). */
export async function cli(args, timeoutMs = 60_000) {
  const child = spawn(process.execPath, [IGORD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

/** One node: a data dir, a fixed port (so its address survives restarts), one log file across restarts. */
export class ChaosNode {
  /** `host`/`wrap`: the address to listen on and a command prefix (e.g. `ip netns exec <ns>`) for the partition scenario. */
  constructor(name, workDir, port, onLog, { host = '127.0.0.1', wrap = [] } = {}) {
    this.name = name
    this.host = host
    this.wrap = wrap
    this.dataDir = join(workDir, name)
    this.port = port
    this.peerId = null
    this.child = null
    this.stopped = false // SIGSTOPped
    this.onLog = onLog
    this.log = createWriteStream(join(workDir, 'logs', `${name}.log`), { flags: 'a' })
    this.partial = ''
    this.exited = Promise.resolve()
    this.waiters = new Set()
    // Set by kill()/stop(): any other exit is the node dying on its own (onUnexpectedExit).
    this.expectExit = false
    this.onUnexpectedExit = null
  }

  /** Resolves with the first log line (from now on) that matches, or null after `timeoutMs`. */
  async nextLog(match, timeoutMs) {
    return new Promise((resolve) => {
      const waiter = (line) => {
        if (!match(line)) return
        this.waiters.delete(waiter)
        clearTimeout(timer)
        resolve(line)
      }
      const timer = setTimeout(() => { this.waiters.delete(waiter); resolve(null) }, timeoutMs)
      this.waiters.add(waiter)
    })
  }

  get address() { return `/ip4/${this.host}/tcp/${this.port}/p2p/${this.peerId}` }
  get alive() { return this.child !== null }

  /** Starts igord; resolves once it listens (its agents are loaded then). */
  async start(extra = []) {
    const args = [IGORD, '--data-dir', this.dataDir, '--listen', `/ip4/${this.host}/tcp/${this.port}`, ...extra]
    // `ip netns exec` execs the program itself, so the child's pid is igord's (signals reach it).
    const [cmd, ...pre] = this.wrap.length > 0 ? [...this.wrap, process.execPath] : [process.execPath]
    const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.stopped = false
    this.expectExit = false
    let ready
    const listening = new Promise((resolve) => { ready = resolve })
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      this.log.write(chunk)
      this.partial += chunk
      const lines = this.partial.split('\n')
      this.partial = lines.pop() ?? ''
      for (const text of lines) {
        let line
        try { line = JSON.parse(text) } catch { continue }
        if (typeof line.msg === 'string' && line.msg.startsWith('listening on')) {
          this.peerId = line.peerId
          ready(true)
        }
        this.onLog(this, line)
        for (const waiter of [...this.waiters]) waiter(line)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk) => { this.log.write(`# stderr: ${chunk}`) })
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      if (this.child === child) { this.child = null; this.stopped = false }
      if (!this.expectExit) this.onUnexpectedExit?.(code, signal)
      ready(false)
      resolve({ code, signal })
    }))
    const timer = setTimeout(() => ready(false), 60_000)
    const ok = await listening
    clearTimeout(timer)
    return ok
  }

  signal(sig) {
    if (this.child === null) return false
    try { this.child.kill(sig) } catch { return false }
    if (sig === 'SIGSTOP') this.stopped = true
    if (sig === 'SIGCONT') this.stopped = false
    return true
  }

  async kill() {
    if (this.child === null) return
    this.expectExit = true
    this.signal('SIGCONT')
    this.signal('SIGKILL')
    await this.exited
  }

  /** SIGINT: the clean shutdown (final checkpoints). */
  async stop() {
    if (this.child === null) return
    this.expectExit = true
    this.signal('SIGCONT')
    this.signal('SIGINT')
    const timer = setTimeout(() => this.signal('SIGKILL'), 30_000)
    await this.exited
    clearTimeout(timer)
  }
}

/** A directory of K copies of the counter agent (ids c1…cK), for `--run-agents`. */
export async function agentDir(workDir, count) {
  const dir = join(workDir, 'agents')
  await mkdir(dir, { recursive: true })
  const ids = []
  for (let i = 1; i <= count; i++) {
    const id = `c${i}`
    await copyFile(AGENT, join(dir, `${id}.wasm`))
    await copyFile(MANIFEST, join(dir, `${id}.manifest.json`))
    ids.push(id)
  }
  return { dir, ids }
}
