// Migration on loopback: two real igord processes hand a bigstate agent
// (1 MiB / 16 MiB of state) back and forth, against a raw libp2p transfer of
// the same number of bytes measured in the same run (raw-transfer.mjs).
//
// Method (also in the row notes):
// - One pair of nodes per size; the agent starts on A. A first, uncounted hop
//   A→B goes through the real CLI (`igord migrate … --to …`, exit 0 checked)
//   and pays the libp2p dial and the cold JIT; the counted hops then alternate
//   B→A, A→B, … over the same nodes, each through `POST
//   /agents/<id>/migrate` on the source's control socket.
// - Tick times come from the probe in bench/lib/migration-cluster.mjs (the
//   AgentHost onTick hook, CLOCK_MONOTONIC shared by all processes): exact,
//   with no polling load on the 2 cores.
// - bigstate ticks once a second. Each hop is triggered right after the
//   source's second tick since the agent arrived there: the tick just ended,
//   so "last tick on the source → first tick on the target" measures the
//   hand-off and not up to 1 s of the agent simply not being due (a random
//   phase would add U(0, 1 s) to that gap), and no periodic checkpoint (every
//   5 s) is in flight. Runs where one was are counted in the note.
// - Raw baseline: after every hop, rawTransfer() of exactly the package size
//   (`bytes` of the source's `hand-off: sending package` line).
import { execFile } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MigrationCluster, controlPost, monoMs } from '../lib/migration-cluster.mjs'
import { IGORD_CLI } from '../lib/igord-process.mjs'
import { createRawTransferNodes, rawTransfer } from './raw-transfer.mjs'

export const name = 'migration'

const agentsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'agents', 'build')

/** Issue 21 targets: 1 MiB ≤ 2× raw + 20 ms, authority gap ≤ 60 ms; 16 MiB ≤ 1.5× raw. */
const SIZES = [
  { label: '1MiB', agentId: 'bigstate-1m', gapTargetMs: 60, factor: 2, slackMs: 20 },
  { label: '16MiB', agentId: 'bigstate-16m', gapTargetMs: null, factor: 1.5, slackMs: 0 }
]

/**
 * SPEC §7: both hand-off versions, side by side in one run. `2.0.0` is what
 * nodes negotiate (rows without a suffix); `1.0.0` (rows `….v1`) runs both
 * igord with `IGORD_MIGRATE_PROTOCOLS=1.0.0`, as two reference-speaking nodes.
 */
const VERSIONS = [
  { label: '2.0.0', suffix: '', env: null },
  { label: '1.0.0', suffix: '.v1', env: { IGORD_MIGRATE_PROTOCOLS: '1.0.0' } }
]

const WAIT_MS = 60_000
/**
 * The raw baseline runs this long after a hop: the hop itself starts after
 * ≥ 1 s of quiet (it waits for the second tick), and right behind a hop the
 * three processes are still collecting its garbage (measured: raw 16 MiB
 * 300-480 ms right after a hop, 160-240 ms 0.3-2 s later).
 */
const RAW_SETTLE_MS = 300

const sleep = (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms))

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const fmt = (ms) => (Number.isFinite(ms) ? ms.toFixed(ms >= 100 ? 0 : 1) : '?')

function runCli(args, timeoutMs = WAIT_MS) {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [IGORD_CLI, ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolveRun({ code: error === null ? 0 : (error.code ?? 1), stdout, stderr })
    })
  })
}

/**
 * Waits until `agentId` has ticked on `node` for the second time since it
 * arrived (or started) there, and returns that tick's probe event — as soon as
 * the bench sees it, so the hand-off can start right behind it.
 */
async function waitForTriggerTick(node, agentId) {
  const starts = MigrationCluster.events(node, 'host-start').filter((e) => e.agentId === agentId)
  const arrived = starts.at(-1)
  if (arrived === undefined) throw new Error(`${node.name}: ${agentId} never started here`)
  let since = arrived.t + 500
  for (;;) {
    const line = await node.proc.waitForLine(
      (l) => l.json?.probe === 'tick' && l.json.agentId === agentId && l.json.t > since,
      `${node.name}: a tick of ${agentId}`, WAIT_MS)
    if (monoMs() - Number(line.at) / 1e6 < 20) return line.json
    since = line.json.t // seen too late to count as "right after": take the next one
  }
}

/** The first event of kind `probe` on `node` with `t0` (or `t`) after `after`. */
function first(node, probe, after, end = Infinity) {
  return MigrationCluster.events(node, probe).find((e) => (e.t0 ?? e.t) > after && (e.t0 ?? e.t) < end)
}

/** One hand-off `src → dst`; returns its figures (ms) and a breakdown. */
async function hop(src, dst, agentId, { viaCli = false } = {}) {
  const triggerTick = await waitForTriggerTick(src, agentId)
  const tRequest = monoMs()
  if (viaCli) {
    const result = await runCli(['migrate', agentId, '--to', dst.address, '--data-dir', src.dataDir])
    if (result.code !== 0) throw new Error(`igord migrate exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`)
  } else {
    const reply = await controlPost(src.dataDir, `/agents/${encodeURIComponent(agentId)}/migrate`, { to: dst.address })
    if (reply.status !== 200) throw new Error(`migrate ${src.name}→${dst.name}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`)
  }
  const tReplied = monoMs()
  const firstTick = (await dst.proc.waitForLine(
    (l) => l.json?.probe === 'tick' && l.json.agentId === agentId && l.json.t > tRequest,
    `${dst.name}: first tick of ${agentId}`, WAIT_MS)).json

  const initiated = first(src, 'handoff-initiated', tRequest)
  if (initiated === undefined) throw new Error(`${src.name}: no handoff-initiated probe event`)
  const srcTicks = MigrationCluster.events(src, 'tick').filter((e) => e.agentId === agentId && e.t < initiated.t)
  const lastTick = srcTicks.at(-1)
  const sending = MigrationCluster.logs(src, 'hand-off: sending package').find((l) => l.at > tRequest)
  if (lastTick === undefined || sending === undefined) throw new Error(`${src.name}: missing last tick or 'hand-off: sending package' line`)
  if (BigInt(firstTick.tick) !== BigInt(lastTick.tick) + 1n) {
    throw new Error(`tick numbers not continuous: last on ${src.name} ${lastTick.tick}, first on ${dst.name} ${firstTick.tick}`)
  }

  // Breakdown: consecutive segments between probe timestamps (`t0` start, `t` end of a timed call),
  // so they add up to the hand-off; '?' (NaN) where a probe point is missing.
  const begin = first(src, 'runtime.beginHandoff', tRequest)
  const dial = first(src, 'libp2p.dial', tRequest)
  const srcAuthority = first(src, 'store.writeAuthority', initiated.t, begin.t)
  const srcState = first(src, 'sandbox.checkpoint', initiated.t, begin.t)
  const srcSave = first(src, 'store.save', initiated.t, begin.t)
  const pending = first(src, 'runtime.markHandoffPending', tRequest)
  const read = first(dst, 'migrate-read', tRequest)
  const admit = first(dst, 'runtime.admitAgent', tRequest)
  const dstStart = first(dst, 'sandbox.start', admit.t0, admit.t)
  const dstAuthority = first(dst, 'store.writeAuthority', admit.t0, admit.t)
  const dstSave = first(dst, 'store.save', admit.t0, admit.t)
  const started = first(dst, 'start-admitted', admit.t)
  // Per-phase durations (each call's own start → end; phases may overlap), both sides.
  const srcSeal = first(src, 'lineage.seal', initiated.t, begin.t)
  const srcHistory = first(src, 'history.write', initiated.t)
  const dstStarts = MigrationCluster.events(dst, 'sandbox.start').filter((e) => e.t0 > admit.t0 && e.t < admit.t)
  const dstReplayStart = dstStarts[1]
  const dstModule = first(dst, 'store.saveModule', admit.t0, admit.t)
  const dstSeal = first(dst, 'lineage.seal', admit.t0, admit.t)
  const dstHistory = first(dst, 'history.write', admit.t0, admit.t)
  // A periodic checkpoint between the trigger tick and the hand-off would widen the gap; count such runs.
  const periodic = MigrationCluster.events(src, 'store.save').some((e) => e.t0 > triggerTick.t - 1 && e.t0 < initiated.t)
  const d = (a, b) => (a === undefined || b === undefined || a === null || b === null ? NaN : b - a)
  const phases = {
    'source: control call until the dial starts': d(tRequest, dial?.t0),
    'source: dial (connection reused after the first hop)': d(dial?.t0, dial?.t),
    'source: stream open + protocol negotiation': d(dial?.t, begin?.t0),
    'source: wait for the agent (mutex)': d(begin?.t0, initiated.t),
    'source: HANDOFF_INITIATED authority record (fsync)': d(initiated.t, srcAuthority?.t),
    'source: state copied out of the worker': d(srcAuthority?.t, srcState?.t),
    'source: checkpoint encode': d(srcState?.t, srcSave?.t0),
    'source: checkpoint write + fsync': d(srcSave?.t0, srcSave?.t),
    'source: package encode (1.0.0 JSON + base64; 2.0.0 header)': d(srcSave?.t, sending.at),
    'wire: package encoded → last byte at the target': d(sending.at, read?.lastAt),
    'target: last byte → message assembled': d(read?.lastAt, read?.t),
    'target: decode package': d(read?.t, admit.t0),
    'target: checks (hash, stale, manifest) + compile': d(admit.t0, dstStart?.t0),
    'target: worker start + agent_init + resume': d(dstStart?.t0, dstStart?.t),
    'target: arrival replay + module, identity, authority writes (fsync)': d(dstStart?.t, dstAuthority?.t),
    'target: authority written → checkpoint write starts': d(dstAuthority?.t, dstSave?.t0),
    'target: checkpoint write + fsync': d(dstSave?.t0, dstSave?.t),
    'target: after the checkpoint write (history append, receipts, payments)': d(dstSave?.t, admit.t),
    'target: reply written → ticking starts': d(admit.t, started?.t),
    'target: first tick': d(started?.t, firstTick.t)
  }
  const span = (e) => (e === undefined ? NaN : e.t - e.t0)
  const durations = {
    'source: HANDOFF_INITIATED authority record (write + fsync)': span(srcAuthority),
    'source: state copied out of the worker': span(srcState),
    'source: sign the final checkpoint (Ed25519 over header ‖ state, once)': span(srcSeal),
    'source: checkpoint write + fsync (overlaps the send)': span(srcSave),
    'source: history append + fsync (overlaps the send)': span(srcHistory),
    'source: sealed → package encoded (delta, header) → first write': d(srcSeal?.t, sending.at),
    'wire: package encoded → last byte at the target': d(sending.at, read?.lastAt),
    'target: first → last byte (read, copy into sections, SHA-256 of the checkpoint)': d(read?.firstAt, read?.lastAt),
    'target: last byte → admitAgent (header fields, delta rebuilt)': d(read?.lastAt, admit.t0),
    'target: checks (wasm hash, decode, signature verify, identity, stale) + compile': d(admit.t0, dstStart?.t0),
    'target: worker start + resume': span(dstStart),
    'target: replay sandbox start (beside the agent)': span(dstReplayStart),
    'target: resumed → module write starts (arrival replay, SPEC §12)': d(dstStart?.t, dstModule?.t0),
    'target: module write + fsync': span(dstModule),
    'target: authority record (M+1,0) write + fsync': span(dstAuthority),
    'target: sign the (M+1,0) checkpoint (overlaps the worker start)': span(dstSeal),
    'target: checkpoint write + fsync': span(dstSave),
    'target: history append + fsync': span(dstHistory),
    'target: history appended → admitted (receipts, payments, marker)': d(dstHistory?.t, admit.t),
    'target: admitted → ticking starts (reply written)': d(admit.t, started?.t),
    'target: first tick': d(started?.t, firstTick.t)
  }
  // Not on the path to the first tick, for reference.
  const side = {
    'wire: first → last byte at the target': d(read?.firstAt, read?.lastAt),
    'source: write resolved after the package was encoded': d(sending.at, pending?.t0)
  }
  return {
    from: src.name,
    to: dst.name,
    bytes: sending.bytes,
    handoffMs: firstTick.t - tRequest,
    gapMs: firstTick.t - lastTick.t,
    windowMs: firstTick.t - initiated.t,
    triggerLagMs: tRequest - lastTick.t,
    replyMs: tReplied - tRequest,
    periodic,
    phases,
    durations,
    side
  }
}

function payloadOf(size, cache) {
  let payload = cache.get(size)
  if (payload === undefined) {
    payload = new Uint8Array(size)
    for (let i = 0; i < size; i += 4096) payload[i] = i & 0xff
    cache.set(size, payload)
  }
  return payload
}

/**
 * Both versions at one size, interleaved: a pair of igord per version, both
 * pairs up at once (idle but for the agent's 1 Hz tick), and in every round
 * one hop of each version in alternating order, each followed by a raw
 * transfer of the same byte count — the 2.0.0 package size, i.e. the agent's
 * own bytes — so both versions meet the same load and the same baseline.
 */
async function measureSize(ctx, size, runs, rawNodes) {
  const payloads = new Map()
  const lanes = VERSIONS.map((version) => ({ version, cluster: new MigrationCluster(), hops: [], raws: [], cold: null, a: null, b: null }))
  let rawBytes = null
  try {
    for (const lane of lanes) {
      lane.a = await lane.cluster.addNode('A', { agentWasm: join(agentsDir, `${size.agentId}.wasm`), env: lane.version.env })
      lane.b = await lane.cluster.addNode('B', { env: lane.version.env })
      lane.cold = await hop(lane.a, lane.b, size.agentId, { viaCli: true })
      rawBytes ??= lane.cold.bytes // the 2.0.0 lane runs first
      ctx.log(`migration ${size.label} ${lane.version.label}: cold hop A→B via \`igord migrate\`: ${fmt(lane.cold.handoffMs)} ms (${lane.cold.bytes} bytes)`)
    }
    await rawTransfer(payloadOf(rawBytes, payloads), { nodes: rawNodes }) // raw warm-up at this size
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? lanes : [...lanes].reverse()
      for (const lane of order) {
        const [src, dst] = i % 2 === 0 ? [lane.b, lane.a] : [lane.a, lane.b]
        const h = await hop(src, dst, size.agentId)
        await sleep(RAW_SETTLE_MS)
        const raw = await rawTransfer(payloadOf(rawBytes, payloads), { nodes: rawNodes })
        lane.hops.push(h)
        lane.raws.push(raw)
        ctx.log(`migration ${size.label} ${lane.version.label} ${h.from}→${h.to}: hand-off ${fmt(h.handoffMs)} ms, gap ${fmt(h.gapMs)} ms, window ${fmt(h.windowMs)} ms, raw ${fmt(raw)} ms`)
      }
    }
  } finally {
    await Promise.all(lanes.map(async (lane) => lane.cluster.stop()))
  }
  return lanes.flatMap((lane) => summarise(ctx, size, runs, lane.version, lane.hops, lane.raws, lane.cold, rawBytes))
}

function summarise(ctx, size, runs, version, hops, raws, cold, rawBytes) {
  const handoff = median(hops.map((h) => h.handoffMs))
  const gap = median(hops.map((h) => h.gapMs))
  const window = median(hops.map((h) => h.windowMs))
  const raw = median(raws)
  const bytes = median(hops.map((h) => h.bytes))
  const lag = median(hops.map((h) => h.triggerLagMs))
  const reply = median(hops.map((h) => h.replyMs))
  const periodic = hops.filter((h) => h.periodic).length
  const limit = size.factor * raw + size.slackMs
  const rawSize = rawBytes ?? bytes
  const breakdown = Object.keys(hops[0].phases).map((k) => [k, median(hops.map((h) => h.phases[k]))])
  ctx.log(`migration ${size.label} ${version.label}: median breakdown over ${runs} hops, consecutive segments (ms):`)
  for (const [k, v] of breakdown) ctx.log(`  ${k.padEnd(58)} ${fmt(v).padStart(6)}`)
  ctx.log(`  ${'sum of the medians'.padEnd(58)} ${fmt(breakdown.reduce((sum, [, v]) => sum + (Number.isFinite(v) ? v : 0), 0)).padStart(6)}`)
  for (const k of Object.keys(hops[0].side)) ctx.log(`  (${k}: ${fmt(median(hops.map((h) => h.side[k])))})`)
  ctx.log(`migration ${size.label} ${version.label}: median phase durations over ${runs} hops (each phase's own start → end; they overlap where noted) (ms):`)
  for (const k of Object.keys(hops[0].durations)) ctx.log(`  ${k.padEnd(82)} ${fmt(median(hops.map((h) => h.durations[k]))).padStart(6)}`)
  const paired = median(hops.map((h, i) => h.handoffMs / raws[i]))
  const range = (key) => `${fmt(Math.min(...hops.map((h) => h[key])))}–${fmt(Math.max(...hops.map((h) => h[key])))} ms`
  const top = [...breakdown].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([k, v]) => `${k} ${fmt(v)}`).join('; ')
  const runsNote = `/igor/migrate/${version.label}; median of ${runs} hops alternating B→A/A→B between two igord processes, interleaved round by round with the other version's pair (same pair; a first cold hop A→B via \`igord migrate\`, ${fmt(cold.handoffMs)} ms incl. the dial, not counted)`

  return [
    {
      name: `migration.handoff.${size.label}${version.suffix}`,
      value: handoff,
      unit: 'ms',
      ratio: handoff / raw,
      target: size.slackMs === 0 ? `≤ ${size.factor}× raw` : `≤ ${size.factor}× raw + ${size.slackMs} ms`,
      ok: handoff <= limit,
      note: `POST /agents/<id>/migrate issued → first tick on the target (probe: AgentHost onTick, CLOCK_MONOTONIC), range ${range('handoffMs')}; limit ${fmt(limit)} ms with raw ${fmt(raw)} ms for ${rawSize} bytes (package: ${bytes} bytes) (median of per-hop ratios ${paired.toFixed(2)}×; raw measured ${RAW_SETTLE_MS} ms after each hop); load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs at the end; control reply after ${fmt(reply)} ms; ${runsNote}. Largest parts: ${top}`
    },
    {
      name: `migration.authority-gap.${size.label}${version.suffix}`,
      value: gap,
      unit: 'ms',
      ratio: null,
      target: size.gapTargetMs === null ? null : `≤ ${size.gapTargetMs} ms`,
      ok: size.gapTargetMs === null ? null : gap <= size.gapTargetMs,
      note: `last tick on the source → first tick on the target (tick numbers checked consecutive), range ${range('gapMs')}. The agent ticks at 1 Hz: each hop was requested right after a source tick (median ${fmt(lag)} ms after it), so the gap is the hand-off's own; at a random phase up to 1 s of the agent not being due yet would come on top. ${periodic} of ${runs} hops had a periodic checkpoint in the way; ${runsNote}`
    },
    {
      name: `migration.handoff-window.${size.label}${version.suffix}`,
      value: window,
      unit: 'ms',
      ratio: null,
      target: null,
      ok: null,
      note: `HANDOFF_INITIATED on the source (the lease leaves ACTIVE_OWNER inside the agent's mutex, after the control call and the stream open) → first tick on the target: the time no node may tick, range ${range('windowMs')}; ${runsNote}`
    },
    {
      name: `migration.raw-transfer.${size.label}${version.suffix}`,
      value: raw,
      unit: 'ms',
      ratio: null,
      target: null,
      ok: null,
      note: `rawTransfer() of ${rawSize} bytes (the 2.0.0 package size: the agent's own bytes) between two in-process libp2p nodes, one after every hop, median of ${runs} (+1 warm-up); ${(rawSize / 1048576 / (raw / 1000)).toFixed(0)} MiB/s`
    }
  ]
}

export async function run(ctx) {
  const runs = ctx?.quick ? 3 : 7
  const rawNodes = await createRawTransferNodes()
  const rows = []
  try {
    await rawTransfer(new Uint8Array(1024), { nodes: rawNodes }) // connect once, outside the figures
    for (const size of SIZES) rows.push(...await measureSize(ctx, size, runs, rawNodes))
  } finally {
    await rawNodes.stop()
  }
  return rows
}
