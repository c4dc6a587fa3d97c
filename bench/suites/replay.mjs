// SPEC §12 costs of observation recording and self-verification:
// 1. tick overhead with the event log on vs off: the same agent in two
//    sandboxes, one recording (each observation hostcall appended to the
//    tick's log, the state after the tick kept for a replay), one not —
//    survivor (clock, rand, log every tick) and counter (no observations);
// 2. self-verification's effect on tick latency at --verify-interval 1: tick
//    start lateness (actual start − scheduled start) of survivor ticking every
//    20 ms with self-verification off vs full/interval 1, p50 and p99.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { DEFAULT_LEASE_CONFIG } from '@igor/lease'
import { NodeRuntime, silentLogger } from '@igor/runner'
import { AgentSandbox, loadManifest, prepareAgentModule, readWasmFile } from '@igor/sandbox'
import { parseReplaySettings } from '@igor/replay'

export const name = 'replay'

const LOG_OVERHEAD_MAX_US = 5
const LIMITS = { tickTimeoutMs: 10_000 }
const TICK_MS = 50

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}
const median = (values) => percentile(values, 50)

function serialized(fn) {
  let tail = Promise.resolve()
  return () => (tail = tail.then(fn, fn))
}

async function setupOf(agent) {
  const path = agentPath(agent)
  const prepared = await prepareAgentModule(await readWasmFile(path), { path, manifest: await loadManifest(path) })
  return { agentId: `bench-${agent}`, module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry }
}

async function logOverhead(ctx, agent) {
  const setup = await setupOf(agent)
  const start = (observe) => AgentSandbox.start(observe === undefined ? setup : { ...setup, observe }, { budget: 1n << 62n, state: null, logger: silentLogger, limits: LIMITS })
  const off = await start(undefined)
  const on = await start({ mode: 'record' })
  try {
    const options = ctx.quick ? {} : { minTimeMs: 1500, minIterations: 30 }
    const t = await ctx.measureAll({
      off: serialized(() => off.tick(1n << 62n)),
      on: serialized(() => on.tick(1n << 62n))
    }, options)
    const n = Math.min(t.on.times.length, t.off.times.length)
    const overheadUs = median(Array.from({ length: n }, (_, i) => t.on.times[i] - t.off.times[i])) / 1000
    return [
      ctx.entry(`replay log off ${agent} sandbox.tick`, t.off.medianNs / 1000, 'µs/tick'),
      ctx.entry(`replay log on ${agent} sandbox.tick`, t.on.medianNs / 1000, 'µs/tick', { ratio: ctx.pairedRatio(t.on, t.off) }),
      {
        name: `replay log overhead ${agent}`,
        value: overheadUs,
        unit: 'µs/tick',
        ratio: ctx.pairedRatio(t.on, t.off),
        target: `≤ ${LOG_OVERHEAD_MAX_US} µs`,
        ok: overheadUs <= LOG_OVERHEAD_MAX_US,
        note: 'median of per-round (recording − not recording) sandbox.tick round trips: wrapped hostcalls, the packed log, the post-tick state copy'
      }
    ]
  } finally {
    await off.terminate()
    await on.terminate()
  }
}

/** Ticks `count` times on a real NodeRuntime; returns each tick's start lateness (ms) past its scheduled start. */
async function lateness(ctx, replay, count) {
  const dataDir = await mkdtemp(join(process.env.IGOR_BENCH_DIR ?? tmpdir(), 'igor-bench-replay-'))
  const runtime = await NodeRuntime.open({
    dataDir,
    lease: DEFAULT_LEASE_CONFIG,
    pricePerSecond: 1000n,
    timing: { tickIntervalMs: TICK_MS, busyIntervalMs: TICK_MS, checkpointIntervalMs: 3_600_000 },
    sandboxLimits: LIMITS,
    replay
  })
  try {
    const status = await runtime.startAgent({ wasmPath: agentPath('survivor'), budget: 1n << 62n })
    const host = runtime.host(status.agentId)
    // A tick is scheduled TICK_MS after the previous one ended; its lateness is how much later it started.
    const starts = []
    const ends = []
    // The live sandbox is the host's private state (`host.agent.sandbox` since the issue 18 split).
    const sandbox = host.agent.sandbox
    const originalTick = sandbox.tick.bind(sandbox)
    sandbox.tick = async (...args) => {
      starts.push(performance.now())
      try { return await originalTick(...args) } finally { ends.push(performance.now()) }
    }
    await new Promise((resolve) => { const check = () => (starts.length > count ? resolve() : setTimeout(check, 50)); check() })
    if (!host.ticking) throw new Error(`survivor stopped ticking: ${host.status().halted}`)
    const late = []
    for (let i = 1; i < Math.min(starts.length, ends.length); i++) late.push(starts[i] - ends[i - 1] - TICK_MS)
    const verified = host.verification?.verified ?? 0
    const skipped = host.verification?.skipped ?? 0
    return { late, verified, skipped }
  } finally {
    await runtime.shutdown()
    await rm(dataDir, { recursive: true, force: true })
  }
}

async function verifyLateness(ctx) {
  const count = ctx.quick ? 60 : 250
  ctx.log(`self-verification effect: survivor every ${TICK_MS} ms, ${count} ticks, verification off vs full at --verify-interval 1 (two blocks each, alternating)`)
  const off = []
  const on = []
  let verified = 0
  let skipped = 0
  for (let block = 0; block < 2; block++) {
    off.push(...(await lateness(ctx, parseReplaySettings({ replayMode: 'off' }), count)).late)
    const r = await lateness(ctx, parseReplaySettings({ verifyInterval: '1' }), count)
    on.push(...r.late)
    verified += r.verified
    skipped += r.skipped
  }
  const stats = (values) => ({ p50: percentile(values, 50), p99: percentile(values, 99) })
  const a = stats(off)
  const b = stats(on)
  return [
    ctx.entry('replay self-verify off tick start lateness p50', a.p50, 'ms'),
    ctx.entry('replay self-verify off tick start lateness p99', a.p99, 'ms'),
    ctx.entry('replay self-verify interval 1 tick start lateness p50', b.p50, 'ms', { note: `${verified} ticks replayed, ${skipped} skipped (a replay still running)` }),
    ctx.entry('replay self-verify interval 1 tick start lateness p99', b.p99, 'ms', { note: 'lateness = start − (previous end + 50 ms); the replay runs in its own worker, the tick path only fetches the record' })
  ]
}

export async function run(ctx) {
  ctx.log('tick overhead with the event log on vs off (survivor: 3 observations per tick; counter: none)')
  const rows = [...await logOverhead(ctx, 'survivor'), ...await logOverhead(ctx, 'counter')]
  rows.push(...await verifyLateness(ctx))
  return rows
}
