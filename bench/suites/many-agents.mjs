// Many agents on one node (issue 11, point 5): 100 and 1000 `counter` agents
// started with `igord --run-agents <dir>`, measured from spawn:
//   - time until every agent has ticked (target: 1000 within 20 s);
//   - resident memory per idle agent, (RSS N − RSS 0) / N (target ≤ 5 MiB at 1000),
//     split into anonymous and file-backed memory, next to the same number of
//     bare worker threads with igord's resourceLimits (what one isolate costs);
//   - threads, and CPU share of the whole process at 1 tick/s per agent.
// Baselines in the same run: 100 agents loaded one at a time (IGORD_LOAD_CONCURRENCY=1), and 100 agents
// with a worker thread each (--agents-per-worker 1, the sandbox model before shared workers).
// Options (environment), for issue 21 items 3 and 4:
//   IGOR_BENCH_MANY_COUNTS=1000,10000  agent counts (default 100,1000; --quick: 100); 10 000 only on request;
//   IGOR_BENCH_MANY_CPU_ONLY=1         only the counted nodes' readiness and CPU (no baselines, no memory rows);
//   IGOR_BENCH_MANY_FSYNC_AB=<rounds>  per count, also nodes with IGOR_NO_FSYNC_COALESCE=1 (every directory fsync
//                                      its own, the code before group commit), alternating order, <rounds> of each;
//   IGOR_BENCH_STRACE=1                after the CPU window, fsync + fdatasync calls per second over 10 s (strace -c -f);
//   IGOR_BENCH_MANY_FLOOR=0            leave out the floor (below).
// The floor (issue 21 item 4), measured in the same run for each count ≥ 1000: what that many agents must cost
// at the SPEC's cadence before any Igor code (bench/lib/per-agent-floor.mjs): the file work SPEC §5, §12 and §15
// ask of every agent every 5 s (two Ed25519 signs, two atomic writes, a history append with fdatasync), and a
// bare message round trip per agent per second to shared worker threads. The CPU row's ratio is against their sum.
import { spawn } from 'node:child_process'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentPath, manifestPath } from '@igor/agents'
import { controlGet, killAll, memoryDetail, rssKiB, sleep, spawnIgord, spawnTracked, waitForStatus } from '../lib/igord-process.mjs'

export const name = 'many-agents'

const LISTEN = '/ip4/127.0.0.1/tcp/0'
const ALL_TICKING_MAX_S = 20
const MEMORY_PER_AGENT_MAX_MIB = 5
const CPU_WINDOW_MS = 10_000
const CLOCK_TICKS_PER_S = 100 // Linux USER_HZ
const STRACE_WINDOW_MS = 10_000
const CPU_PER_AGENT_SECOND_MAX_US = 100 // issue 21 item 4
const TEN_THOUSAND_ALL_TICKING_MAX_S = 60

/** One floor measurement in a child process: CPU µs per agent-second (see bench/lib/per-agent-floor.mjs). */
async function floor(mode, count) {
  const script = new URL('../lib/per-agent-floor.mjs', import.meta.url).pathname
  const proc = spawnTracked(process.execPath, [script, mode, String(count), String(CPU_WINDOW_MS), process.env.IGOR_BENCH_DIR ?? tmpdir()])
  const { code } = await proc.exited
  const line = proc.lines.findLast((l) => l.json?.perAgentSecondUs !== undefined)
  if (code !== 0 || line === undefined) throw new Error(`per-agent floor (${mode}, ${count}) failed with exit ${code}: ${proc.stderr.slice(-500)}`)
  return line.json.perAgentSecondUs
}

async function floorRows(ctx, count, result) {
  if (process.env.IGOR_BENCH_MANY_FLOOR === '0' || count < 1000) return []
  const files = await floor('files', count)
  const ticks = await floor('ticks', count)
  const perAgentUs = result.cpuShare * 1e6 / count
  ctx.log(`  ${count} agents, the floor: SPEC file work ${files.toFixed(0)} µs + bare tick round trips ${ticks.toFixed(0)} µs per agent-second; igord ${perAgentUs.toFixed(0)} µs (${(perAgentUs / (files + ticks)).toFixed(2)}×)`)
  return [
    row(`many-agents ${count} floor: SPEC file work per agent-second`, files, 'µs', { note: `bench/lib/per-agent-floor.mjs files: every 5 s per agent two Ed25519 signs, the checkpoint written atomically (temp → write → fsync → close → rename, directory fsyncs shared), a history append + fdatasync, and the receipts file the same atomic way every 12th checkpoint (--receipts-write-every 60s); ${count} agents spread over 5 s, ${CPU_WINDOW_MS / 1000} s window, process CPU` }),
    row(`many-agents ${count} floor: bare tick round trips per agent-second`, ticks, 'µs', { note: `bench/lib/per-agent-floor.mjs ticks: one message round trip per agent per second to ${Math.ceil(count / 16)} worker threads (16 agents each), each agent on its own phase, no agent code` }),
    { ...row(`many-agents ${count} CPU per agent-second over the floor`, perAgentUs, 'µs', { note: `igord's CPU per agent-second against the floor's sum (${(files + ticks).toFixed(0)} µs) in the same run; the floor alone is ${((files + ticks) / CPU_PER_AGENT_SECOND_MAX_US).toFixed(1)}× the ≤ ${CPU_PER_AGENT_SECOND_MAX_US} µs target` }), ratio: perAgentUs / (files + ticks) }
  ]
}

const row = (name, value, unit, extra = {}) => ({ name, value, unit, ratio: null, target: null, ok: null, ...extra })
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function tempDir(temps, label) {
  const dir = await mkdtemp(join(process.env.IGOR_BENCH_DIR ?? tmpdir(), `igor-bench-many-${label}-`))
  temps.push(dir)
  return dir
}

/** N copies of counter with sidecar manifests, as an operator would lay out a directory for --run-agents. */
async function agentsDir(temps, count) {
  const dir = await tempDir(temps, `agents${count}`)
  const width = String(count - 1).length
  for (let i = 0; i < count; i++) {
    const id = `counter-${String(i).padStart(width, '0')}`
    await copyFile(agentPath('counter'), join(dir, `${id}.wasm`))
    await copyFile(manifestPath('counter'), join(dir, `${id}.manifest.json`))
  }
  return dir
}

/** utime + stime of a process, in seconds. */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S
}

/** fsync and fdatasync calls of every thread of `pid` per second, counted by `strace -c -f` over a window; null without strace. */
async function fsyncsPerSecond(pid, windowMs) {
  const child = spawn('strace', ['-c', '-f', '-e', 'trace=fsync,fdatasync', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let out = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => { out += chunk })
  const exited = new Promise((resolve) => { child.once('exit', resolve); child.once('error', () => resolve(null)) })
  await sleep(windowMs)
  child.kill('SIGINT')
  await exited
  const calls = (syscall) => {
    const line = out.split('\n').find((l) => l.trim().split(/\s+/).at(-1) === syscall)
    return line === undefined ? 0 : Number(line.trim().split(/\s+/)[3])
  }
  if (!/% time/.test(out)) return null
  return { fsync: calls('fsync') / (windowMs / 1000), fdatasync: calls('fdatasync') / (windowMs / 1000) }
}

async function settledRss(pid, settleMs) {
  await sleep(settleMs)
  const values = []
  for (let i = 0; i < 5; i++) {
    values.push(await rssKiB(pid))
    if (i < 4) await sleep(400)
  }
  return { rssKiB: median(values), detail: await memoryDetail(pid) }
}

function describeNotReady(status) {
  const notReady = status.agents.filter((a) => a.halted !== null || BigInt(a.tickNumber) < 1n)
  return `${status.agents.length} listed, ${notReady.length} not ticking yet`
}

/** One igord with `count` agents: time to all ticking, memory once idle, CPU over a window. */
async function runNode(ctx, temps, count, { env = {}, measureCpu = true, extraArgs = [] } = {}) {
  const dataDir = await tempDir(temps, `data${count}`)
  const args = ['--data-dir', dataDir, '--listen', LISTEN]
  if (count > 0) args.push('--run-agents', await agentsDir(temps, count))
  args.push(...extraArgs)
  Object.assign(process.env, env) // spawnIgord inherits the environment
  const node = spawnIgord(args)
  for (const key of Object.keys(env)) delete process.env[key]
  try {
    // Every agent ticked at least once, or was halted (e.g. a tick past its 100 ms deadline on a loaded machine,
    // even before its first tick): a halted agent never ticks again, so waiting for it would never end. Halts are reported.
    const status = await waitForStatus(dataDir, (s) => s.agents.length === count && s.agents.every((a) => BigInt(a.tickNumber) >= 1n || a.halted !== null),
      `${count} agents ticking`, { timeoutMs: 600_000, intervalMs: count >= 500 ? 500 : 100, describe: describeNotReady })
    const readyS = Number(process.hrtime.bigint() - node.startedAt) / 1e9
    const haltedAtReady = status.agents.filter((a) => a.halted !== null).length
    const neverTicked = status.agents.filter((a) => BigInt(a.tickNumber) === 0n).length
    const listening = node.lines.find((l) => l.json?.msg?.startsWith('listening on'))
    const loaded = node.lines.find((l) => /agent\(s\) started$/.test(l.json?.msg ?? ''))
    const memory = await settledRss(node.pid, ctx.quick ? 1500 : 4000)
    const halted = (await controlGet(dataDir, '/status', 60_000)).agents.filter((a) => a.halted !== null)
    if (halted.length > 0) ctx.log(`  ${halted.length} of ${count} agents halted, e.g. ${halted[0].agentId}: ${halted[0].halted}`)
    let cpuShare = null
    if (measureCpu) {
      const before = await cpuSeconds(node.pid)
      await sleep(CPU_WINDOW_MS)
      cpuShare = (await cpuSeconds(node.pid) - before) / (CPU_WINDOW_MS / 1000)
    }
    const fsyncs = measureCpu && process.env.IGOR_BENCH_STRACE === '1' ? await fsyncsPerSecond(node.pid, STRACE_WINDOW_MS) : null
    ctx.log(`  load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
    ctx.log(`  ${count} agents${env.IGOR_NO_FSYNC_COALESCE === '1' ? ' (directory fsyncs not shared)' : ''}: all ticking ${readyS.toFixed(1)} s after spawn (loaded in ${loaded?.json?.ms ?? '?'} ms), RSS ${(memory.rssKiB / 1024).toFixed(0)} MiB, ${memory.detail.Threads} threads${cpuShare === null ? '' : `, CPU ${(cpuShare * 100).toFixed(1)} % of one core, ${(cpuShare * 1e6 / count).toFixed(0)} µs per agent-second`}${fsyncs === null ? '' : `, ${fsyncs.fsync.toFixed(0)} fsync/s + ${fsyncs.fdatasync.toFixed(0)} fdatasync/s (under strace)`}`)
    return { readyS, memory, cpuShare, fsyncs, haltedAtReady, neverTicked, halted: halted.length, listeningS: listening === undefined ? null : Number(listening.at - node.startedAt) / 1e9 }
  } finally {
    await node.stop(60_000)
  }
}

// What one agent's worker costs before any agent code: N idle workers with igord's resourceLimits.
const BARE_WORKERS = `
const { Worker } = require('node:worker_threads')
const n = Number(process.argv[1])
let online = 0
for (let i = 0; i < n; i++) {
  const w = new Worker('setInterval(() => {}, 1000)', { eval: true, resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4, stackSizeMb: 4 } })
  w.once('online', () => { if (++online === n) console.log('ready') })
}
if (n === 0) console.log('ready')
setInterval(() => {}, 1000)`

async function bareWorkers(ctx, count) {
  const proc = spawnTracked(process.execPath, ['-e', BARE_WORKERS, String(count)])
  try {
    await proc.waitForLine((l) => l.text === 'ready', `${count} bare workers`, 300_000)
    return await settledRss(proc.pid, ctx.quick ? 1000 : 3000)
  } finally {
    proc.child.kill('SIGKILL')
    await proc.exited
  }
}

/** Counts from IGOR_BENCH_MANY_COUNTS, else 100 and 1000 (100 with --quick). */
function agentCounts(ctx) {
  const env = process.env.IGOR_BENCH_MANY_COUNTS
  if (env === undefined || env === '') return ctx.quick ? [100] : [100, 1000]
  const counts = env.split(',').map((s) => Number(s.trim()))
  if (counts.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error(`IGOR_BENCH_MANY_COUNTS: expected counts like 1000,10000, got ${env}`)
  return counts
}

/** CPU rows of one node: share of a core, µs per agent-second (issue 21 target ≤ 100 µs), and fsyncs counted under strace. */
function cpuRows(count, result, label, note) {
  const perAgentUs = result.cpuShare * 1e6 / count
  const rows = [
    row(`many-agents ${count} CPU at 1 tick/s${label}`, result.cpuShare * 100, '% of a core', { note: `utime+stime over ${CPU_WINDOW_MS / 1000} s once all agents tick, whole process; ${perAgentUs.toFixed(0)} µs of CPU per agent per second${note}` }),
    {
      ...row(`many-agents ${count} CPU per agent-second${label}`, perAgentUs, 'µs', { note: `the same window / ${count} agents${note}` }),
      ...(count >= 1000 ? { target: `≤ ${CPU_PER_AGENT_SECOND_MAX_US} µs`, ok: perAgentUs <= CPU_PER_AGENT_SECOND_MAX_US } : {})
    }
  ]
  if (result.fsyncs !== null) rows.push(row(`many-agents ${count} fsyncs per second${label}`, result.fsyncs.fsync + result.fsyncs.fdatasync, 'calls/s', { note: `strace -c -f over ${STRACE_WINDOW_MS / 1000} s after the CPU window (strace slows the process): fsync ${result.fsyncs.fsync.toFixed(0)}/s, fdatasync ${result.fsyncs.fdatasync.toFixed(0)}/s${note}` }))
  return rows
}

/** Issue 21 item 3: the same count with directory fsyncs shared (group commit) and not, alternating, `rounds` each. */
async function fsyncComparison(ctx, temps, count, rounds) {
  const shared = []
  const unshared = []
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['unshared', 'shared'] : ['shared', 'unshared']
    for (const which of order) {
      const env = which === 'unshared' ? { IGOR_NO_FSYNC_COALESCE: '1' } : {}
      const result = await runNode(ctx, temps, count, { env })
      ;(which === 'shared' ? shared : unshared).push(result)
    }
  }
  const us = (results) => results.map((r) => r.cpuShare * 1e6 / count)
  const sharedUs = median(us(shared))
  const unsharedUs = median(us(unshared))
  const note = `; ${rounds} node(s) each, alternating, median: shared ${us(shared).map((v) => v.toFixed(0)).join(', ')} µs, not shared ${us(unshared).map((v) => v.toFixed(0)).join(', ')} µs`
  return [
    ...cpuRows(count, unshared.at(-1), ', directory fsyncs not shared', ' (IGOR_NO_FSYNC_COALESCE=1: every directory fsync its own, as before group commit)'),
    { ...row(`many-agents ${count} CPU per agent-second, group commit vs not`, sharedUs, 'µs', { note: `shared directory fsyncs vs IGOR_NO_FSYNC_COALESCE=1 in the same run (ratio = shared / not shared)${note}` }), ratio: sharedUs / unsharedUs }
  ]
}

export async function run(ctx) {
  const temps = []
  const rows = []
  const counts = agentCounts(ctx)
  const cpuOnly = process.env.IGOR_BENCH_MANY_CPU_ONLY === '1'
  const abRounds = Number(process.env.IGOR_BENCH_MANY_FSYNC_AB ?? '0')
  try {
    ctx.log(`many agents: ${counts.join(' and ')} counters on one igord (${availableParallelism()} cores)${cpuOnly ? ', CPU only' : ', and one with none'}`)
    if (cpuOnly) {
      for (const count of counts) {
        const result = await runNode(ctx, temps, count)
        rows.push(readyRow(count, result, null))
        rows.push(...cpuRows(count, result, '', ''))
        rows.push(...await floorRows(ctx, count, result))
        if (abRounds > 0) rows.push(...await fsyncComparison(ctx, temps, count, abRounds))
      }
      return rows
    }
    const empty = await runNode(ctx, temps, 0, { measureCpu: false })
    const sequential = await runNode(ctx, temps, 100, { env: { IGORD_LOAD_CONCURRENCY: '1' }, measureCpu: false })
    rows.push(row('many-agents 100 all ticking, sequential loads', sequential.readyS, 's', { note: 'baseline: IGORD_LOAD_CONCURRENCY=1, the load order before issue 11' }))
    // The model before shared workers: a worker thread per agent (--agents-per-worker 1).
    const threadEach = await runNode(ctx, temps, 100, { measureCpu: false, extraArgs: ['--agents-per-worker', '1'] })
    const threadEachMiB = (threadEach.memory.rssKiB - empty.memory.rssKiB) / 1024 / (100 - threadEach.halted)
    rows.push(row('many-agents 100 all ticking, a thread per agent', threadEach.readyS, 's', { note: '--agents-per-worker 1: one worker thread per agent, the sandbox model before shared workers' }))
    rows.push(row('many-agents 100 memory per idle agent, a thread per agent', threadEachMiB, 'MiB/agent', { note: '--agents-per-worker 1' }))
    const bare0 = await bareWorkers(ctx, 0)
    for (const count of counts) {
      const result = await runNode(ctx, temps, count)
      // A halted agent's worker is gone: memory is per live agent.
      const live = count - result.halted
      const perAgent = (result.memory.rssKiB - empty.memory.rssKiB) / 1024 / live
      const anon = (result.memory.detail.RssAnon - empty.memory.detail.RssAnon) / 1024 / live
      const file = (result.memory.detail.RssFile - empty.memory.detail.RssFile) / 1024 / live
      const bare = await bareWorkers(ctx, count)
      const barePerWorker = (bare.rssKiB - bare0.rssKiB) / 1024 / count
      const timed = count === 1000
      rows.push(readyRow(count, result, sequential))
      rows.push({
        ...row(`many-agents ${count} memory per idle agent`, perAgent, 'MiB/agent', {
          note: `(RSS with ${count} − RSS 0) / ${live} live agents (${result.halted} halted): anonymous ${anon.toFixed(2)}, file-backed ${file.toFixed(2)}; a bare worker thread with the same resourceLimits costs ${barePerWorker.toFixed(2)} MiB (ratio = agent / bare worker)${count === 100 ? `; a thread per agent: ${threadEachMiB.toFixed(2)} MiB` : ''}`
        }),
        ratio: perAgent / barePerWorker,
        ...(timed ? { target: `≤ ${MEMORY_PER_AGENT_MAX_MIB} MiB`, ok: perAgent <= MEMORY_PER_AGENT_MAX_MIB } : {})
      })
      rows.push(row(`many-agents ${count} threads`, result.memory.detail.Threads, 'threads', { note: `igord with no agents: ${empty.memory.detail.Threads}` }))
      rows.push(...cpuRows(count, result, '', ''))
      rows.push(...await floorRows(ctx, count, result))
      if (abRounds > 0) rows.push(...await fsyncComparison(ctx, temps, count, abRounds))
    }
  } finally {
    await killAll()
    for (const dir of temps) await rm(dir, { recursive: true, force: true })
  }
  return rows
}

/** Spawn → all ticking; targets: 1000 within 20 s (issue 11), 10 000 within 60 s (issue 21). */
function readyRow(count, result, sequential) {
  const target = count === 1000 ? ALL_TICKING_MAX_S : count === 10_000 ? TEN_THOUSAND_ALL_TICKING_MAX_S : null
  return {
    ...row(`many-agents ${count} all ticking`, result.readyS, 's', {
      note: `spawn → every agent ticked at least once or was halted (status polled; ${result.neverTicked} halted before a first tick); "listening on" at ${result.listeningS?.toFixed(1) ?? '?'} s; agents halted by then ${result.haltedAtReady}, after the memory sample ${result.halted}${count === 100 && sequential !== null ? '; ratio vs sequential loads' : ''}`
    }),
    ...(count === 100 && sequential !== null ? { ratio: result.readyS / sequential.readyS } : {}),
    ...(target !== null ? { target: `≤ ${target} s`, ok: result.readyS <= target } : {})
  }
}
