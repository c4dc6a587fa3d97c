// Spawning and driving a real igord process for the runner benchmarks: line-by-line
// stdout (igord logs one JSON object per line), the control socket, VmRSS, and a
// stop that always ends with the process gone (SIGINT, then SIGKILL as a last resort).
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const IGORD_CLI = join(repoRoot, 'apps', 'igord', 'dist', 'cli.js')

/** Every process spawned here that has not exited yet, so a failing suite can still clean up. */
const live = new Set()

/**
 * Starts `node apps/igord/dist/cli.js …args`. `startedAt` is taken right before
 * spawn(). Lines of stdout are parsed as JSON where possible and handed to the
 * waiters; stderr is kept (last 4 KiB) for error messages.
 */
export function spawnIgord(args, { cli = IGORD_CLI, env = null } = {}) {
  const startedAt = process.hrtime.bigint()
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env === null ? {} : { env: { ...process.env, ...env } }) })
  return track(child, startedAt)
}

/** Any command, tracked the same way (used for the `node -e 0` baseline). */
export function spawnTracked(command, args) {
  const startedAt = process.hrtime.bigint()
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  return track(child, startedAt)
}

function track(child, startedAt) {
  live.add(child)
  const lines = []
  const waiters = new Set()
  let stderr = ''
  let pending = ''
  let exitInfo = null
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, at: process.hrtime.bigint() }
      live.delete(child)
      for (const w of waiters) w.reject(new Error(`process exited (code ${code}, signal ${signal}) before: ${w.what}\n${stderr.slice(-2000)}`))
      waiters.clear()
      resolve(exitInfo)
    })
  })
  child.once('error', (error) => {
    for (const w of waiters) w.reject(error)
    waiters.clear()
  })
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    const at = process.hrtime.bigint()
    pending += chunk
    let nl = pending.indexOf('\n')
    while (nl !== -1) {
      const text = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      let json = null
      try { json = JSON.parse(text) } catch { /* not a JSON line */ }
      const line = { text, json, at }
      lines.push(line)
      for (const w of [...waiters]) {
        if (w.match(line)) { waiters.delete(w); w.resolve(line) }
      }
      nl = pending.indexOf('\n')
    }
  })
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4096) })

  return {
    child,
    pid: child.pid,
    startedAt,
    exited,
    lines,
    get stderr() { return stderr },
    get exitInfo() { return exitInfo },
    /** Resolves with the first line (past or future) for which `match(line)` is true. */
    waitForLine(match, what, timeoutMs = 30_000) {
      const seen = lines.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      if (exitInfo !== null) return Promise.reject(new Error(`process already exited before: ${what}\n${stderr.slice(-2000)}`))
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\n${stderr.slice(-2000)}`)) }, timeoutMs)
        const w = {
          what,
          match,
          resolve: (line) => { clearTimeout(timer); resolve(line) },
          reject: (error) => { clearTimeout(timer); reject(error) }
        }
        waiters.add(w)
      })
    },
    /** SIGINT (igord's clean shutdown with final checkpoints), SIGKILL if it has not exited within `graceMs`. */
    async stop(graceMs = 15_000) {
      if (exitInfo !== null) return exitInfo
      child.kill('SIGINT')
      const timer = setTimeout(() => { if (exitInfo === null) child.kill('SIGKILL') }, graceMs)
      const info = await exited
      clearTimeout(timer)
      return info
    }
  }
}

/** Kills whatever is still running (used in `finally`, after a failure). */
export async function killAll() {
  const waits = []
  for (const child of live) {
    waits.push(new Promise((resolve) => { child.once('exit', resolve) }))
    child.kill('SIGKILL')
  }
  await Promise.all(waits)
}

/** GET `path` on the node's control socket (`<dataDir>/igord.sock`), parsed JSON. */
export function controlGet(dataDir, path = '/status', timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: join(dataDir, 'igord.sock'), path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => {
        try { resolve(JSON.parse(body)) } catch (error) { reject(error) }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`control socket ${path} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

/** Polls `/status` until `ready(status)` is true. */
export async function waitForStatus(dataDir, ready, what, { timeoutMs = 60_000, intervalMs = 200, describe = (s) => JSON.stringify(s)?.slice(0, 500) } = {}) {
  const deadline = Date.now() + timeoutMs
  let last = null
  for (;;) {
    try {
      last = await controlGet(dataDir)
      if (ready(last)) return last
    } catch { /* socket not up yet */ }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last status: ${last === null ? 'none' : describe(last)}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Resident set size of a process in KiB (VmRSS from /proc/<pid>/status). */
export async function rssKiB(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text)
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1])
}

/** A few fields of /proc/<pid>/status for explaining memory (KiB, and the thread count). */
export async function memoryDetail(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)
    return m === null ? null : Number(m[1])
  }
  return { VmRSS: field('VmRSS'), RssAnon: field('RssAnon'), RssFile: field('RssFile'), VmSize: field('VmSize'), Threads: field('Threads') }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
