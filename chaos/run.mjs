#!/usr/bin/env node
// `pnpm chaos`: a Jepsen-style run against real igord processes on 127.0.0.1 (issue 12 item 5).
// See chaos/README.md. Exits 1 on any violation, 2 on bad arguments.
import { createWriteStream } from 'node:fs'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Checker } from './checker.mjs'
import { ChaosNode, agentDir, cli, freePort, readStatus } from './cluster.mjs'
import { Netns, netnsUnavailable } from './netns.mjs'

const SCENARIOS = {
  // weights of each action per step
  mixed: { migrate: 6, kill: 1, killMidHandoff: 2, pause: 1, pausePastLease: 1, pauseMidHandoff: 1, restart: 1 },
  kill: { migrate: 5, kill: 2, killMidHandoff: 4, pause: 0, pausePastLease: 0, pauseMidHandoff: 0, restart: 1 },
  pause: { migrate: 5, kill: 0, killMidHandoff: 0, pause: 2, pausePastLease: 3, pauseMidHandoff: 3, restart: 0 },
  handoff: { migrate: 4, kill: 0, killMidHandoff: 4, pause: 0, pausePastLease: 0, pauseMidHandoff: 4, restart: 0 },
  // Needs network namespaces (netns.mjs): every node in its own, partitions by link down / a second bridge.
  partition: { migrate: 5, kill: 1, killMidHandoff: 0, pause: 0, pausePastLease: 0, pauseMidHandoff: 0, restart: 1, isolate: 3, split: 2, isolateMidHandoff: 3 },
  // Issue 16: a stranger on the network attacks while agents move; no node may die of it, and nothing it sends is admitted.
  hostile: { migrate: 5, kill: 0, killMidHandoff: 0, pause: 1, pausePastLease: 1, pauseMidHandoff: 0, restart: 1, junkArray: 1, replayFlood: 1, garbageSupersede: 2, foreignKey: 2, fenceForever: 2 },
  // Issue 20 (SPEC §16): the node chooses (`--to auto`) and empties itself (`igord drain`) while nodes are killed and paused.
  placement: { migrate: 1, migrateAuto: 5, drain: 1, kill: 1, killMidHandoff: 1, pause: 1, pausePastLease: 1, pauseMidHandoff: 1, restart: 1 }
}
const HOSTILE_ACTIONS = ['junkArray', 'replayFlood', 'garbageSupersede', 'foreignKey', 'fenceForever']

function usage(message) {
  process.stderr.write(`chaos: ${message}\nusage: pnpm chaos [--smoke] [--duration 10m] [--scenario ${Object.keys(SCENARIOS).join('|')}] [--nodes 3] [--agents 6] [--seed N] [--keep]\n`)
  process.exit(2)
}

function duration(text) {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text ?? '')
  if (m === null) usage(`bad duration ${JSON.stringify(text)} (e.g. 90s, 10m)`)
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']
}

let values
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      smoke: { type: 'boolean' },
      duration: { type: 'string' },
      scenario: { type: 'string' },
      nodes: { type: 'string' },
      agents: { type: 'string' },
      seed: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    },
    strict: true
  }))
} catch (error) {
  usage(error.message)
}
if (values.help) usage('options')
const scenarioName = values.scenario ?? 'mixed'
const weights = SCENARIOS[scenarioName]
if (weights === undefined) usage(`unknown scenario ${JSON.stringify(scenarioName)}`)
const durationMs = duration(values.duration ?? (values.smoke ? '2m' : '10m'))
const nodeCount = Number(values.nodes ?? 3)
// The partition scenario needs root and `ip netns`; without them it is skipped, never failed.
const partitioned = scenarioName === 'partition'
if (partitioned) {
  const reason = netnsUnavailable()
  if (reason !== null) {
    process.stdout.write(`partition scenario skipped: ${reason}\n`)
    process.exit(0)
  }
}
const agentCount = Number(values.agents ?? 6)
if (!(nodeCount >= 2 && nodeCount <= 9)) usage('--nodes must be 2…9')
if (!(agentCount >= 1 && agentCount <= 50)) usage('--agents must be 1…50')

// A small seeded PRNG (mulberry32), so a run can be repeated with --seed.
let seed = Number(values.seed ?? Date.now() % 2 ** 31)
const startSeed = seed
const random = () => {
  seed = (seed + 0x6D2B79F5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (list) => list[Math.floor(random() * list.length)]
const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Short leases so pauses past lease + grace happen within seconds.
const LEASE_MS = 3000
const GRACE_MS = 1000
// The hostile scenario lets big packages arrive whole, so the attack reaches the decoder (not only the read timeout).
const NODE_FLAGS = ['--lease-duration', `${LEASE_MS}ms`, '--lease-grace', `${GRACE_MS}ms`, '--transfer-timeout', scenarioName === 'hostile' ? '60s' : '3s', '--recovery', 'assisted']

const work = await mkdtemp(join(tmpdir(), 'igor-chaos-'))
await mkdir(join(work, 'logs'), { recursive: true })
const { dir: agentsDir, ids } = await agentDir(work, agentCount)
const checker = new Checker(ids)
const ops = { migrations: 0, migrated: 0, migrateRefused: 0, migrateUnknown: 0, migrateOther: 0, statusReads: 0 }
if (scenarioName === 'partition') Object.assign(ops, { acrossPartition: 0, acrossPartitionMigrated: 0, acrossPartitionFailed: 0 })
const placementScenario = scenarioName === 'placement'
if (placementScenario) Object.assign(ops, { placements: 0, placed: 0, notPlaced: 0, placeUnknown: 0, drains: 0, drained: 0, drainStayed: 0, drainRefused: 0, drainAgentsMoved: 0, drainAgentsStayed: 0 })
const drainSamples = []
const otherErrors = []
const hostileScenario = scenarioName === 'hostile'
const attacks = hostileScenario ? (await import('./hostile.mjs')).ATTACKS : null
const hostile = Object.fromEntries(HOSTILE_ACTIONS.map((k) => [k, 0]))
const hostileOutcomes = {}
const hostileSamples = []
let unexpectedExits = 0
const faults = { kill: 0, killMidHandoff: 0, killMidHandoffNotStarted: 0, pause: 0, pausePastLease: 0, pauseMidHandoff: 0, pauseMidHandoffNotStarted: 0, restart: 0 }
if (partitioned) Object.assign(faults, { partitions: 0, isolate: 0, isolatePastLease: 0, split: 0, splitPastLease: 0, isolateMidHandoff: 0, isolateMidHandoffNotStarted: 0 })
// 0–300 ms after the package started to leave; half of them in the first 30 ms, where a small agent's hand-off still is.
const intoHandoff = () => (random() < 0.5 ? between(0, 30) : between(0, 300))
const nodes = []
// Every fault, timestamped, beside the node logs (to line a violation up with what was done).
const events = createWriteStream(join(work, 'logs', 'faults.jsonl'), { flags: 'a' })
const note = (kind, node, extra = {}) => events.write(`${JSON.stringify({ time: new Date().toISOString(), kind, node: node.name, ...extra })}\n`)
let net = null
if (partitioned) {
  net = new Netns(nodeCount)
  const removed = net.removeLeftovers()
  if (removed > 0) process.stdout.write(`chaos: removed ${removed} namespace(s)/link(s) left by earlier runs\n`)
  // Torn down on every way out: normal end, failure, SIGINT/SIGTERM (nodes first, then the namespaces).
  process.on('exit', () => {
    for (const node of nodes) node.signal('SIGKILL')
    net.tearDown()
  })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { process.stdout.write(`chaos: ${sig}, cleaning up\n`); process.exit(130) })
  net.setUp()
}
for (let i = 0; i < nodeCount; i++) {
  const opts = net === null ? {} : { host: net.address(i), wrap: net.wrap(i) }
  nodes.push(new ChaosNode(`n${i}`, work, net === null ? await freePort() : 4001, (node, line) => checker.logLine(node, line), opts))
}
for (const node of nodes) {
  node.onUnexpectedExit = (code, signal) => {
    unexpectedExits++
    // Issue 16: whatever a peer sends, a node never dies of it.
    if (hostileScenario) checker.violation('node-died', `${node.name} exited on its own (${code ?? signal}); see ${join(work, 'logs', `${node.name}.log`)}`)
    void restartLater(node, 500)
  }
}
const indexOf = (node) => nodes.indexOf(node)
/** A partition lasts 0.5 s … lease + grace + 5 s; about half of them past lease + grace. */
const partitionMs = () => (random() < 0.5 ? between(500, LEASE_MS + GRACE_MS) : between(LEASE_MS + GRACE_MS + 500, LEASE_MS + GRACE_MS + 5000))

const peersOf = (node) => nodes.filter((n) => n !== node).flatMap((n) => ['--peer', n.address])
const busy = new Set() // nodes under a fault right now (not picked for another)
let latest = new Map() // node name → last status (or null)

// The placement scenario gives every node its own price (n0 cheapest), so `--to auto` has an order to follow.
const priceOf = (node) => (placementScenario ? ['--price-per-second', String(1000 * (indexOf(node) + 1))] : [])

async function startNode(node, extra = []) {
  const ok = await node.start([...NODE_FLAGS, ...priceOf(node), ...peersOf(node), ...extra])
  if (!ok) checker.violation('node-did-not-start', `${node.name}: see ${join(work, 'logs', `${node.name}.log`)}`)
}

process.stdout.write(`chaos: scenario ${scenarioName}, ${nodeCount} nodes, ${agentCount} agents, ${Math.round(durationMs / 1000)} s, seed ${startSeed}, work dir ${work}\n`)
// First boot learns each node's peer id (its key is kept in its data dir), then the real start knows every address.
for (const node of nodes) {
  await node.start(['--lease-duration', '0'])
  await node.stop()
}
for (const [i, node] of nodes.entries()) await startNode(node, i === 0 ? ['--run-agents', agentsDir] : [])

// Status reads, round after round, into the checker.
let polling = true
const poller = (async () => {
  while (polling) {
    const answers = await Promise.all(nodes.map(async (n) => [n.name, n.alive && !n.stopped ? await readStatus(n.dataDir) : null]))
    latest = new Map(answers)
    checker.round(answers)
    await sleep(200)
  }
})()

/** Where each agent is owned now, per the latest round. */
function ownerOf(agentId) {
  for (const node of nodes) {
    const row = latest.get(node.name)?.agents.find((a) => a.agentId === agentId)
    if (row !== undefined && row.state === 'ACTIVE_OWNER' && row.halted === null) return node
  }
  return null
}

/** Starts `igord migrate` of a random owned agent to a random other node; resolves with the pair (or null). */
function startMigration() {
  const candidates = ids.map((id) => [id, ownerOf(id)]).filter(([, n]) => n !== null && !busy.has(n) && n.alive && !n.stopped)
  if (candidates.length === 0) return null
  const [agentId, from] = pick(candidates)
  const targets = nodes.filter((n) => n !== from && n.alive && !n.stopped && !busy.has(n))
  if (targets.length === 0) return null
  const to = pick(targets)
  ops.migrations++
  // Drawn while source and target cannot reach each other (the partition may heal before it ends).
  const across = net !== null && net.separated(indexOf(from), indexOf(to))
  if (across) ops.acrossPartition++
  // "Into the hand-off" is measured from the source's own log line, not from the CLI's start.
  const sending = from.nextLog((l) => l.msg === 'hand-off: sending package' && l.agentId === agentId, 15_000)
  const done = cli(['migrate', agentId, '--to', to.address, '--data-dir', from.dataDir, '--timeout', '10s'], 60_000).then((r) => {
    if (across) ops[r.code === 0 ? 'acrossPartitionMigrated' : 'acrossPartitionFailed']++
    if (r.code === 0) ops.migrated++
    else if (/refused|REJECTED|FENCED|busy|being loaded|admitted right now/i.test(r.stderr)) ops.migrateRefused++
    else if (/RECOVERY_REQUIRED|may hold/.test(r.stderr)) ops.migrateUnknown++
    else {
      ops.migrateOther++
      if (otherErrors.length < 10) otherErrors.push(r.stderr.trim().slice(0, 300))
    }
    return r
  })
  return { agentId, from, to, done, sending }
}

async function restartLater(node, ms) {
  await sleep(ms)
  if (!node.alive) await startNode(node)
}

/**
 * A migration under way and one of its two nodes (busy from now on), reached
 * `intoHandoff()` after the source began sending: where the mid-hand-off faults
 * strike. Null when no migration could start.
 */
async function midHandoff(kind) {
  const m = startMigration()
  if (m === null) return null
  const victim = random() < 0.5 ? m.from : m.to
  busy.add(victim)
  faults[kind]++
  if (await Promise.race([m.sending, m.done.then(() => null)]) === null) faults[`${kind}NotStarted`]++
  await sleep(intoHandoff())
  note(kind, victim, { agentId: m.agentId, role: victim === m.from ? 'source' : 'target' })
  return { m, victim }
}

/** Issue 16: one attack by a stranger against a running node; what it must never achieve is a violation. */
async function attack(kind) {
  const node = pick(nodes.filter((n) => n.alive && !n.stopped && n.peerId !== null))
  if (node === undefined) return
  // An agent this node holds (any state, a tombstone too) when it holds one, so supersede attempts aim at a real
  // copy. An id a node never held is only a name there: a well-formed agent under it is just a new agent (the key
  // is the agent), so the foreign-key attack needs a held id, and the others use a name no real agent has.
  const held = latest.get(node.name)?.agents.map((a) => a.agentId) ?? []
  if (held.length === 0 && kind === 'foreignKey') { hostileOutcomes['foreignKey: skipped (nothing held)'] = (hostileOutcomes['foreignKey: skipped (nothing held)'] ?? 0) + 1; return }
  const agentId = held.length > 0 ? pick(held) : `stranger-${between(1, 1_000_000)}`
  hostile[kind]++
  note(kind, node, { agentId })
  const result = await attacks[kind](node.address, agentId, random)
  if (kind === 'fenceForever') {
    for (const answer of result.answers) {
      if (!['unknown', 'error', 'no-answer'].includes(answer.Held)) checker.violation('oracle-answered-stranger', `${node.name} told a stranger ${answer.Held} for ${agentId}`)
      if (answer.Fenced !== null && answer.Fenced !== undefined) checker.violation('stranger-fenced', `${node.name} fenced ${agentId} at ${answer.Fenced} for a stranger`)
    }
  } else if (result.reply?.Success === true) {
    checker.violation('hostile-package-admitted', `${node.name} admitted ${kind} for ${agentId}`)
  }
  // What the node said, by attack (a refusal with a reason is the expected answer; no answer is a closed stream).
  const outcome = kind === 'fenceForever' ? [...new Set(result.answers.map((a) => a.Held))].join('+') : result.reply === null ? 'no reply' : (result.reply.Success ? 'admitted' : 'refused')
  const key = `${kind}: ${outcome}`
  hostileOutcomes[key] = (hostileOutcomes[key] ?? 0) + 1
  if (result.reply === null && hostileSamples.length < 10) hostileSamples.push(`${kind}: ${result.error}`)
  if (result.reply?.Success === false && hostileSamples.length < 10 && !hostileSamples.some((x) => x.startsWith(`${kind}: refused`))) hostileSamples.push(`${kind}: refused: ${result.reply.Error.slice(0, 200)}`)
}

/** SPEC §16 `igord migrate <agent> --to auto` from its owner: the node scans prices and places it, with fallback. */
async function migrateAuto() {
  const candidates = ids.map((id) => [id, ownerOf(id)]).filter(([, n]) => n !== null && !busy.has(n) && n.alive && !n.stopped)
  if (candidates.length === 0) return
  const [agentId, from] = pick(candidates)
  ops.placements++
  const r = await cli(['migrate', agentId, '--to', 'auto', '--json', '--data-dir', from.dataDir, '--timeout', '10s'], 120_000)
  let outcome = null
  try { outcome = JSON.parse(r.stdout).outcome } catch { /* not a report: the node was down or busy */ }
  if (r.code === 0) ops.placed++
  else if (outcome === 'ambiguous') ops.placeUnknown++
  else ops.notPlaced++
}

/**
 * SPEC §16 `igord drain` of a node that owns agents: it refuses arrivals, moves them (auto), and stops by itself;
 * the harness then starts it again (empty, or with the agents that stayed).
 */
async function drain(free) {
  const node = pick(free.filter((n) => n.alive && !n.stopped && (latest.get(n.name)?.agents ?? []).some((a) => a.state === 'ACTIVE_OWNER')))
  if (node === undefined) return
  busy.add(node)
  ops.drains++
  note('drain', node)
  node.expectExit = true // a drained node stops on its own
  const r = await cli(['drain', '--json', '--timeout', '20s', '--data-dir', node.dataDir], 180_000)
  let report = null
  try { report = JSON.parse(r.stdout) } catch { /* refused, or the node went away */ }
  if (report !== null) {
    ops[report.outcome === 'drained' ? 'drained' : 'drainStayed']++
    ops.drainAgentsMoved += report.moved.length
    ops.drainAgentsStayed += report.stayed.length
    for (const stay of report.stayed) if (drainSamples.length < 10) drainSamples.push(`${node.name} ${stay.agentId}: ${stay.reason.slice(0, 200)}`)
  } else {
    ops.drainRefused++
    if (drainSamples.length < 10) drainSamples.push(`${node.name}: ${r.stderr.trim().slice(0, 200)}`)
  }
  // Drained: it stopped (give it a moment). A drain that never began leaves it running: treat the node as before.
  if (node.alive) await Promise.race([node.exited, sleep(report !== null ? 30_000 : 0)])
  if (node.alive) node.expectExit = false
  await restartLater(node, between(200, 2500))
  busy.delete(node)
}

async function act(kind) {
  if (HOSTILE_ACTIONS.includes(kind)) return attack(kind)
  const free = nodes.filter((n) => !busy.has(n))
  switch (kind) {
    case 'migrateAuto':
      return migrateAuto()
    case 'drain':
      return drain(free)
    case 'migrate': {
      const m = startMigration()
      if (m !== null) await m.done
      return
    }
    case 'kill':
    case 'restart': {
      const node = pick(free.filter((n) => n.alive))
      if (node === undefined) return
      busy.add(node)
      faults[kind]++
      note(kind, node)
      if (kind === 'kill') await node.kill()
      else await node.stop()
      if (kind === 'kill') await checker.decodeAll([node])
      await restartLater(node, between(200, 2500))
      busy.delete(node)
      return
    }
    case 'killMidHandoff': {
      const at = await midHandoff(kind)
      if (at === null) return
      const { m, victim } = at
      await victim.kill()
      await m.done
      await checker.decodeAll([victim])
      await restartLater(victim, between(200, 2500))
      busy.delete(victim)
      return
    }
    case 'pause':
    case 'pausePastLease': {
      const node = pick(free.filter((n) => n.alive && !n.stopped))
      if (node === undefined) return
      busy.add(node)
      faults[kind]++
      note(kind, node)
      node.signal('SIGSTOP')
      await sleep(kind === 'pause' ? between(300, 2000) : between(LEASE_MS + GRACE_MS + 500, LEASE_MS + GRACE_MS + 3000))
      node.signal('SIGCONT')
      busy.delete(node)
      return
    }
    case 'pauseMidHandoff': {
      const at = await midHandoff(kind)
      if (at === null) return
      const { m, victim } = at
      victim.signal('SIGSTOP')
      await sleep(between(500, LEASE_MS + GRACE_MS + 3000))
      victim.signal('SIGCONT')
      await m.done
      busy.delete(victim)
      return
    }
    case 'isolate': {
      // One node cut off from all others (it keeps running; the CLI still reaches it over its Unix socket).
      const node = pick(free.filter((n) => !net.isolated.has(indexOf(n))))
      if (node === undefined) return
      busy.add(node)
      const ms = partitionMs()
      faults.partitions++
      faults.isolate++
      if (ms > LEASE_MS + GRACE_MS) faults.isolatePastLease++
      note('isolate', node, { ms })
      net.isolate(indexOf(node))
      await sleep(ms)
      net.rejoin(indexOf(node))
      note('rejoin', node)
      busy.delete(node)
      return
    }
    case 'split': {
      // Two groups that each see only themselves; migrations keep being drawn by the other actors meanwhile.
      if (net.split !== null) return
      const shuffled = [...nodes].sort(() => random() - 0.5)
      const group = shuffled.slice(0, between(1, nodes.length - 1))
      const ms = partitionMs()
      faults.partitions++
      faults.split++
      if (ms > LEASE_MS + GRACE_MS) faults.splitPastLease++
      events.write(`${JSON.stringify({ time: new Date().toISOString(), kind: 'split', group: group.map((n) => n.name), ms })}\n`)
      // The nodes stay free for the other actors: migrations drawn across the split must fail safely.
      net.splitOff(group.map(indexOf))
      await sleep(ms)
      net.mend()
      events.write(`${JSON.stringify({ time: new Date().toISOString(), kind: 'mend' })}\n`)
      return
    }
    case 'isolateMidHandoff': {
      const m = startMigration()
      if (m === null) return
      const victim = random() < 0.5 ? m.from : m.to
      if (net.isolated.has(indexOf(victim))) { await m.done; return }
      busy.add(victim)
      faults.partitions++
      faults.isolateMidHandoff++
      if (await Promise.race([m.sending, m.done.then(() => null)]) === null) faults.isolateMidHandoffNotStarted++
      await sleep(intoHandoff())
      const ms = partitionMs()
      note('isolateMidHandoff', victim, { agentId: m.agentId, role: victim === m.from ? 'source' : 'target', ms })
      net.isolate(indexOf(victim))
      await sleep(ms)
      net.rejoin(indexOf(victim))
      note('rejoin', victim)
      await m.done
      busy.delete(victim)
    }
  }
}

// Several actors at once, each drawing weighted random actions until the time is up.
const table = Object.entries(weights).flatMap(([k, w]) => Array(w).fill(k))
const endAt = Date.now() + durationMs
let lastReport = Date.now()
const actors = Array.from({ length: Math.max(2, nodeCount - 1) }, async () => {
  while (Date.now() < endAt) {
    await act(pick(table)).catch((error) => checker.violation('harness-error', error.stack ?? String(error)))
    await sleep(between(50, 600))
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now()
      process.stdout.write(`chaos: ${Math.round((endAt - Date.now()) / 1000)} s left; ops ${JSON.stringify(ops)} faults ${JSON.stringify(faults)} violations ${checker.violations.length}\n`)
    }
  }
})
await Promise.all(actors)

// Quiesce: everything running and continued, then wait for the network to resolve what is left.
if (net !== null) net.healAll()
for (const node of nodes) node.signal('SIGCONT')
for (const node of nodes) if (!node.alive) await startNode(node)
const settleBy = Date.now() + 120_000
let settled = false
while (Date.now() < settleBy) {
  const answers = await Promise.all(nodes.map(async (n) => [n.name, await readStatus(n.dataDir, 5000)]))
  if (checker.settled(answers)) { settled = true; break }
  await sleep(1000)
}
polling = false
await poller
await checker.decodeAll(nodes)
checker.finish()
if (!settled && checker.violations.length === 0) checker.violation('not-settled', 'the cluster did not settle within 120 s')
for (const node of nodes) await node.stop()

ops.statusReads = checker.counts.statusReads
const summary = {
  scenario: scenarioName,
  seed: startSeed,
  durationS: Math.round(durationMs / 1000),
  nodes: nodeCount,
  agents: agentCount,
  operations: ops,
  faults,
  ...(hostileScenario ? { hostile, hostileOutcomes, hostileSamples } : {}),
  ...(placementScenario ? { drainSamples } : {}),
  unexpectedExits,
  observed: {
    networkRecoveries: checker.counts.networkRecoveries,
    networkRetires: checker.counts.networkRetires,
    leaseExpiries: checker.counts.leaseExpiries,
    handoffsOutcomeUnknown: checker.counts.handoffsUnknown,
    staleCopiesSuperseded: checker.counts.supersededCopies,
    checkpointsDecoded: checker.counts.checkpointsDecoded,
    statusRounds: checker.counts.rounds
  },
  migrateOtherSamples: otherErrors,
  manualRecovers: 0,
  violations: checker.violations
}
await writeFile(join(work, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`)
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
if (checker.violations.length > 0) {
  process.stdout.write(`chaos: ${checker.violations.length} violation(s); logs kept in ${work}\n`)
  process.exit(1)
}
if (values.keep) process.stdout.write(`chaos: logs kept in ${work}\n`)
else await rm(work, { recursive: true, force: true })
process.stdout.write('chaos: 0 violations\n')
