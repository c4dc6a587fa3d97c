// Issue 8 point 5: what would running agents in a separate sandbox host process
// (supervised by igord) cost, against today's worker thread per agent in the
// igord process? Measures, with the real AgentSandbox and counter.wasm:
//   - round trip of one tick: igord → worker (today) vs igord → host process (IPC) → worker
//   - resident memory: fixed cost of one host process, and per agent in each design
// Run: node bench/containment/sandbox-host.mjs [agents=10] [ticks=3000]
import { fork } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { agentPath, manifestPath } from '@igor/agents'
import { silentLogger } from '@igor/runner'
import { AgentSandbox, loadManifest, prepareAgentModule } from '@igor/sandbox'

const BUDGET = 1n << 62n
const LIMITS = { tickTimeoutMs: 10_000, initTimeoutMs: 30_000, checkpointTimeoutMs: 30_000 }

async function startAgents(n) {
  const wasm = new Uint8Array(await readFile(agentPath('counter')))
  const manifest = await loadManifest(agentPath('counter'), manifestPath('counter'))
  const prepared = await prepareAgentModule(wasm, { path: agentPath('counter'), manifest })
  const sandboxes = []
  for (let i = 0; i < n; i++) {
    sandboxes.push(await AgentSandbox.start(
      { agentId: `a${i}`, module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry },
      { budget: BUDGET, state: null, logger: silentLogger, limits: LIMITS }
    ))
  }
  return sandboxes
}

const settle = async () => { globalThis.gc?.(); await new Promise((resolve) => setTimeout(resolve, 1500)) }
const rssMiB = () => process.memoryUsage().rss / 1048576

if (process.argv[2] === 'host') {
  // The sandbox host process: agents in worker threads, ticks asked for over IPC.
  let sandboxes = []
  process.on('message', async (message) => {
    if (message.op === 'rss') { await settle(); process.send({ rss: rssMiB() }) }
    if (message.op === 'start') { sandboxes = await startAgents(message.n); process.send({ started: sandboxes.length }) }
    if (message.op === 'tick') { const r = await sandboxes[message.i].tick(BUDGET); process.send({ more: r.more }) }
    if (message.op === 'stop') { await Promise.all(sandboxes.map((s) => s.terminate())); process.exit(0) }
  })
  process.send({ ready: true })
} else {
  const agents = Number(process.argv[2] ?? 10)
  const ticks = Number(process.argv[3] ?? 3000)
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

  // Today: workers in this process.
  await settle()
  const before = rssMiB()
  const local = await startAgents(agents)
  await settle()
  const perAgentLocal = (rssMiB() - before) / agents
  // Alternative: one host process holding the agents.
  const child = fork(new URL(import.meta.url).pathname, ['host'], { serialization: 'advanced', execArgv: ['--expose-gc'] })
  const replies = []
  let waiter = null
  child.on('message', (m) => { if (waiter !== null) { const w = waiter; waiter = null; w(m) } else replies.push(m) })
  const ask = (message) => new Promise((resolve) => { waiter = resolve; if (message !== null) child.send(message) })
  await ask(null) // ready
  const hostEmpty = (await ask({ op: 'rss' })).rss
  await ask({ op: 'start', n: agents })
  const hostFull = (await ask({ op: 'rss' })).rss
  // Interleaved, so both designs see the same machine load; the difference is taken per pair.
  for (let i = 0; i < 200; i++) { await local[0].tick(BUDGET); await ask({ op: 'tick', i: 0 }) }
  const localTimes = []
  const ipcTimes = []
  const extra = []
  for (let i = 0; i < ticks; i++) {
    let t = process.hrtime.bigint()
    await local[i % agents].tick(BUDGET)
    localTimes.push(Number(process.hrtime.bigint() - t) / 1000)
    t = process.hrtime.bigint()
    await ask({ op: 'tick', i: i % agents })
    ipcTimes.push(Number(process.hrtime.bigint() - t) / 1000)
    extra.push(ipcTimes[i] - localTimes[i])
  }
  child.send({ op: 'stop' })
  await Promise.all(local.map((s) => s.terminate()))

  const fmt = (x) => x.toFixed(1)
  console.log(`agents: ${agents}, ticks: ${ticks} (counter.wasm, real AgentSandbox)`)
  console.log(`tick round trip, worker in igord:          median ${fmt(median(localTimes))} µs`)
  console.log(`tick round trip, via a sandbox host (IPC): median ${fmt(median(ipcTimes))} µs  (+${fmt(median(extra))} µs per tick, paired)`)
  console.log(`memory per agent, worker in igord:         ${fmt(perAgentLocal)} MiB`)
  console.log(`memory per agent, in a sandbox host:       ${fmt((hostFull - hostEmpty) / agents)} MiB`)
  console.log(`fixed cost of one sandbox host process:    ${fmt(hostEmpty)} MiB`)
  console.log(`one host per agent would cost per agent:   ${fmt(hostEmpty + (hostFull - hostEmpty) / agents)} MiB`)
}
