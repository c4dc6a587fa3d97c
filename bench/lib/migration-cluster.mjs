// Two real igord processes on loopback for the migration benchmark, plus the
// probe that timestamps what happens inside them.
//
// This file has two roles:
// - imported (by bench/suites/migration.mjs): start/stop nodes, POST to the
//   control socket, collect the probe events of one hand-off;
// - run as a script (`node migration-cluster.mjs <igord args>`): installs the
//   probe, then runs apps/igord/dist/cli.js with the same arguments. The probe
//   wraps a few prototype methods of @igor/runner and @igor/lease (igord loads
//   the very same module files) and writes one JSON line per event to stdout
//   next to igord's own log lines: `{"probe": <event>, "t": <ms>, …}`.
//
// Why a probe: bigstate agents log nothing per tick and igord has no tick log,
// so neither the logs nor /status polling (which would steal CPU from the two
// nodes on 2 cores, and resolves only to the poll period) can say when the last
// tick on the source and the first tick on the target happened. The probe
// records them exactly, through the AgentHost `onTick` hook ("tests and
// benchmarks use it"), which the product itself never sets. `t` is
// process.hrtime (CLOCK_MONOTONIC), shared by every process on the machine, so
// times from both nodes and the bench process compare directly. Cost: one
// hrtime read and one small synchronous write per event (~30 per hand-off).
import { realpathSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { IGORD_CLI, spawnIgord } from './igord-process.mjs'

export const PROBE_SCRIPT = fileURLToPath(import.meta.url)
const repoRoot = join(dirname(PROBE_SCRIPT), '..', '..')
const MIGRATE_PROTOCOL = '/igor/migrate/1.0.0'

/** Milliseconds on the machine-wide monotonic clock (the probe's `t`). */
export const monoMs = () => Number(process.hrtime.bigint()) / 1e6

// ── probe (script mode) ─────────────────────────────────────────────────────

async function installProbe() {
  const { AgentHost, AgentLineage, CheckpointStore, HistoryArchive, NodeRuntime } = await import('@igor/runner')
  const { AgentSandbox } = await import('@igor/sandbox')
  const { Lease } = await import('@igor/lease')
  const emit = (probe, fields) => {
    writeSync(1, `${JSON.stringify({ probe, t: monoMs(), ...fields })}\n`)
  }
  const timed = (target, method, probe, detail = () => ({})) => {
    const original = target[method]
    if (typeof original !== 'function') throw new Error(`probe: ${method} is not a method`)
    target[method] = async function (...args) {
      const t0 = monoMs()
      try {
        const result = await original.apply(this, args)
        emit(probe, { t0, ...detail(args, result) })
        return result
      } catch (error) {
        emit(probe, { t0, error: String(error?.message ?? error) })
        throw error
      }
    }
  }
  const timedSync = (target, method, probe, detail = () => ({})) => {
    const original = target[method]
    if (typeof original !== 'function') throw new Error(`probe: ${method} is not a method`)
    target[method] = function (...args) {
      const t0 = monoMs()
      const result = original.apply(this, args)
      emit(probe, { t0, ...detail(args, result) })
      return result
    }
  }
  const agentArg = (args) => ({ agentId: typeof args[0] === 'string' ? args[0] : args[0]?.agentId })

  // Ticks: every host that ticks goes through start() (run, resume, arrival).
  const start = AgentHost.prototype.start
  AgentHost.prototype.start = function () {
    const agentId = this.agentId
    this.onTick((tick) => emit('tick', { agentId, tick: String(tick) }))
    emit('host-start', { agentId })
    return start.call(this)
  }
  // SPEC §7 source 1: the moment the source stops being allowed to tick (inside the agent's mutex).
  const beginHandoff = Lease.prototype.beginHandoff
  Lease.prototype.beginHandoff = function () {
    emit('handoff-initiated', {})
    return beginHandoff.call(this)
  }
  const startAdmitted = NodeRuntime.prototype.startAdmitted
  NodeRuntime.prototype.startAdmitted = function (agentId) {
    emit('start-admitted', { agentId })
    return startAdmitted.call(this, agentId)
  }
  for (const method of ['beginHandoff', 'markHandoffPending', 'completeHandoff', 'admitAgent']) {
    timed(NodeRuntime.prototype, method, `runtime.${method}`, agentArg)
  }
  timed(CheckpointStore.prototype, 'save', 'store.save', (args) => ({ ...agentArg(args), bytes: args[1]?.byteLength ?? null }))
  for (const method of ['writeAuthority', 'saveModule', 'delete', 'deleteModule', 'writeTombstone', 'deleteTombstone', 'load', 'readAuthority', 'readTombstone']) {
    timed(CheckpointStore.prototype, method, `store.${method}`, agentArg)
  }
  // SPEC §12: the signature of a checkpoint (Ed25519 over header ‖ state), and its history append (fsync).
  timedSync(AgentLineage.prototype, 'seal', 'lineage.seal', (_args, bytes) => ({ bytes: bytes?.byteLength ?? null }))
  timed(HistoryArchive.prototype, 'write', 'history.write', (args) => ({ bytes: args[1]?.byteLength ?? null }))
  timed(AgentSandbox.prototype, 'checkpoint', 'sandbox.checkpoint', (_args, state) => ({ bytes: state.byteLength }))
  timed(AgentSandbox.prototype, 'terminate', 'sandbox.terminate')
  timed(AgentSandbox, 'start', 'sandbox.start', (args) => ({ agentId: args[0]?.agentId, stateBytes: args[1]?.state?.byteLength ?? 0 }))
  const libp2p = await patchLibp2p(timed, emit).catch((error) => String(error?.message ?? error))
  emit('probe-installed', { wallMs: Date.now(), libp2p })
}

/**
 * The network side, from libp2p's own class (the file igord's libp2p is loaded
 * from): dial times, and for each inbound migrate stream when it opened, when
 * its first and last chunk arrived and when the reader stopped (the whole
 * package is in hand). Optional: returns 'ok' or throws, and the breakdown
 * then shows '?' for those parts.
 */
async function patchLibp2p(timed, emit) {
  const dir = realpathSync(join(repoRoot, 'packages', 'migration', 'node_modules', 'libp2p'))
  const { Libp2p } = await import(pathToFileURL(join(dir, 'dist', 'src', 'libp2p.js')).href)
  timed(Libp2p.prototype, 'dial', 'libp2p.dial')
  const handle = Libp2p.prototype.handle
  Libp2p.prototype.handle = function (protocols, handler, options) {
    const list = Array.isArray(protocols) ? protocols : [protocols]
    // Every hand-off version (SPEC §7: /igor/migrate/1.0.0 and 2.0.0).
    if (!list.some((p) => p === MIGRATE_PROTOCOL || p.startsWith('/igor/migrate/'))) return handle.call(this, protocols, handler, options)
    return handle.call(this, protocols, (data) => {
      observeInbound(data.stream, emit)
      return handler(data)
    }, options)
  }
  return 'ok'
}

function observeInbound(stream, emit) {
  const opened = monoMs()
  const source = stream.source
  let firstAt = null
  let lastAt = null
  let bytes = 0
  let chunks = 0
  let reported = false
  const report = () => {
    if (reported) return
    reported = true
    emit('migrate-read', { opened, firstAt, lastAt, bytes, chunks })
  }
  stream.source = {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]()
      return {
        async next() {
          const result = await it.next()
          if (result.done === true) {
            report()
          } else {
            lastAt = monoMs()
            firstAt ??= lastAt
            bytes += result.value.byteLength
            chunks++
          }
          return result
        },
        // readJsonMessage returns the iterator as soon as the object is complete (and copied out).
        async return(value) {
          report()
          return it.return === undefined ? { done: true, value } : it.return(value)
        },
        [Symbol.asyncIterator]() { return this }
      }
    }
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === PROBE_SCRIPT) {
  await installProbe()
  await import(pathToFileURL(IGORD_CLI).href) // runs igord with process.argv.slice(2)
}

// ── cluster (library mode) ──────────────────────────────────────────────────

/** POST `path` with a JSON body on the node's control socket; resolves `{ status, body }`. */
export function controlPost(dataDir, path, body, timeoutMs = 60_000) {
  return new Promise((resolvePost, reject) => {
    const text = JSON.stringify(body)
    const req = request({
      socketPath: join(dataDir, 'igord.sock'),
      path,
      method: 'POST',
      timeout: timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }
    }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { data += chunk })
      res.on('end', () => {
        try { resolvePost({ status: res.statusCode, body: JSON.parse(data) }) } catch (error) { reject(error) }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`control socket POST ${path} timed out`)))
    req.on('error', reject)
    req.end(text)
  })
}

/**
 * A set of probed igord nodes under one temporary directory. `stop()` ends
 * every node it started (SIGINT, SIGKILL after a grace period) and removes
 * the directory; call it in `finally`.
 */
export class MigrationCluster {
  #nodes = []
  #root = null

  /**
   * Starts a probed node `name` (its data directory under the cluster's temp
   * directory), optionally running `agentWasm`; resolves once it listens.
   * `nodeFlags` go to node itself (e.g. `['--cpu-prof', '--cpu-prof-dir=…']`
   * to see where a slow hand-off spends its time); `env` is added to the
   * process environment (e.g. `IGORD_MIGRATE_PROTOCOLS: '1.0.0'`).
   */
  async addNode(name, { agentWasm = null, extraArgs = [], nodeFlags = [], env = null } = {}) {
    this.#root ??= await mkdtemp(join(tmpdir(), 'igor-bench-migration-'))
    const dataDir = join(this.#root, name)
    const args = ['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', ...extraArgs]
    if (agentWasm !== null) args.push('--run-agent', agentWasm)
    // spawnIgord runs `node <cli> …args`; node's own flags go in front of the script.
    const proc = nodeFlags.length === 0
      ? spawnIgord(args, { cli: PROBE_SCRIPT, env })
      : spawnIgord([...nodeFlags.slice(1), PROBE_SCRIPT, ...args], { cli: nodeFlags[0], env })
    const node = { name, dataDir, proc, address: null, peerId: null }
    this.#nodes.push(node)
    const listening = await proc.waitForLine((l) => typeof l.json?.msg === 'string' && l.json.msg.startsWith('listening on'), `${name}: listening on`, 60_000)
    node.address = listening.json.addresses[0]
    node.peerId = listening.json.peerId
    if (!proc.lines.some((l) => l.json?.probe === 'probe-installed')) {
      throw new Error(`${name}: the probe did not load (no probe-installed line)`)
    }
    return node
  }

  /** Probe events of `node` (parsed), optionally only those of one kind. */
  static events(node, probe = null) {
    const out = []
    for (const line of node.proc.lines) {
      const json = line.json
      if (json !== null && typeof json.probe === 'string' && (probe === null || json.probe === probe)) out.push(json)
    }
    return out
  }

  /** igord's own log lines of `node` whose `msg` starts with `prefix`, with `at` (bench receive time, monotonic ms). */
  static logs(node, prefix) {
    const out = []
    for (const line of node.proc.lines) {
      if (typeof line.json?.msg === 'string' && line.json.msg.startsWith(prefix)) out.push({ ...line.json, at: Number(line.at) / 1e6 })
    }
    return out
  }

  async stop() {
    const nodes = this.#nodes
    this.#nodes = []
    await Promise.all(nodes.map(async (n) => n.proc.stop(10_000).catch(() => undefined)))
    if (this.#root !== null) await rm(this.#root, { recursive: true, force: true })
    this.#root = null
  }
}
