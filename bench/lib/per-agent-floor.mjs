// Issue 21 item 4: what N agents must cost at the SPEC's cadence before any Igor code, as a child process
// measuring its own CPU (the baseline of `many-agents … CPU per agent-second`).
//   node bench/lib/per-agent-floor.mjs <files|ticks> <agents> <windowMs> [dir]
// files: what SPEC §5, §12 and §15 ask of the disk for every agent every 5 s (the checkpoint cadence), with
//   nothing else: two Ed25519 signs (checkpoint seal, open receipt), the checkpoint written atomically
//   (temporary file → write → fsync → close → rename; one directory fsync shared by the writes of the same
//   turn, as igord's group commit does), a history append (open, writev, fdatasync, close), and the receipts
//   file written the same atomic way every 12th checkpoint (igord's default --receipts-write-every 60s).
//   Writes go through fs/promises (the libuv pool) like igord's; agents are spread evenly over the 5 s.
// ticks: one message round trip per agent per second to worker threads holding 16 agents each (igord's default
//   --agents-per-worker), each agent on its own phase, the worker answering at once: the thread hops of a tick
//   with no agent code, no metering, no call marks.
// Prints one JSON line: { cpuUs, windowMs, perAgentSecondUs, operations }.
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { open, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

const [mode, agentsArg, windowArg, dirArg] = process.argv.slice(2)
const agents = Number(agentsArg)
const windowMs = Number(windowArg)
const WARMUP_MS = 3000
const CHECKPOINT_EVERY_MS = 5000
const TICK_EVERY_MS = 1000
const AGENTS_PER_WORKER = 16
const RECEIPTS_EVERY = Number(process.env.FLOOR_RECEIPTS_EVERY ?? 12) // checkpoints per receipts write
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function files() {
  const dir = mkdtempSync(join(dirArg ?? tmpdir(), 'igor-floor-'))
  const history = join(dir, 'history')
  await (await import('node:fs/promises')).mkdir(history)
  const { privateKey } = generateKeyPairSync('ed25519')
  const checkpoint = Buffer.alloc(145 + 300 + 64, 7) // a v0x04 header, a 300-byte state, a signature
  const receipts = Buffer.alloc(186, 9)
  let dirSync = null // one directory fsync shared by the writes of a turn (group commit)
  const syncDirectory = () => {
    dirSync ??= (async () => {
      await null
      dirSync = null
      const handle = await open(dir, 'r')
      try { await handle.sync() } finally { await handle.close() }
    })()
    return dirSync
  }
  const atomicWrite = async (path, bytes) => {
    const temp = `${path}.tmp`
    const handle = await open(temp, 'w')
    try {
      await handle.write(bytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
    await syncDirectory()
  }
  let operations = 0
  // FLOOR_PARTS (exploration): a subset of sign,checkpoint,history,receipts — what each part costs alone
  const parts = new Set((process.env.FLOOR_PARTS ?? 'sign,checkpoint,history,receipts').split(','))
  const checkpointOnce = async (i, round) => {
    if (parts.has('sign')) {
      sign(null, checkpoint.subarray(0, 445), privateKey)
      sign(null, receipts.subarray(0, 120), privateKey)
    }
    if (parts.has('checkpoint')) await atomicWrite(join(dir, `a${i}.checkpoint`), checkpoint)
    if (parts.has('history')) {
      const segment = await open(join(history, `a${i}.hist`), 'a')
      try {
        await segment.writev([Buffer.alloc(8), checkpoint])
        await segment.datasync()
      } finally {
        await segment.close()
      }
    }
    if (parts.has('receipts') && round % RECEIPTS_EVERY === 0) await atomicWrite(join(dir, `a${i}.receipts`), receipts)
    operations++
  }
  await writeFile(join(dir, 'warm'), 'x')
  const run = async (untilMs) => {
    const started = performance.now()
    const inFlight = new Set()
    let next = 0
    while (performance.now() - started < untilMs) {
      // agent i checkpoints at i × (5 s / agents) within each 5 s
      const due = started + (next * CHECKPOINT_EVERY_MS) / agents
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      const p = checkpointOnce(next % agents, Math.floor(next / agents) + (next % RECEIPTS_EVERY)).finally(() => inFlight.delete(p))
      inFlight.add(p)
      next++
    }
    await Promise.all(inFlight)
  }
  await run(WARMUP_MS)
  operations = 0
  const cpu0 = process.cpuUsage()
  await run(windowMs)
  const cpu = process.cpuUsage(cpu0)
  rmSync(dir, { recursive: true, force: true })
  return { cpuUs: cpu.user + cpu.system, operations }
}

const WORKER = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', (m) => parentPort.postMessage(m))`

async function ticks() {
  const workers = Array.from({ length: Math.ceil(agents / AGENTS_PER_WORKER) }, () => new Worker(WORKER, { eval: true }))
  let operations = 0
  const waiting = new Map()
  for (const w of workers) w.on('message', (m) => { operations++; waiting.get(m.id)?.(); waiting.delete(m.id) })
  let stop = false
  let seq = 0
  const agentLoop = async (i) => {
    await sleep((i * TICK_EVERY_MS) / agents)
    while (!stop) {
      const id = seq++
      await new Promise((resolve) => { waiting.set(id, resolve); workers[i % workers.length].postMessage({ id, agent: i, op: 'tick' }) })
      await sleep(TICK_EVERY_MS)
    }
  }
  const loops = Array.from({ length: agents }, (_, i) => agentLoop(i))
  await sleep(WARMUP_MS)
  operations = 0
  const cpu0 = process.cpuUsage()
  await sleep(windowMs)
  const cpu = process.cpuUsage(cpu0)
  stop = true
  await Promise.all(loops)
  await Promise.all(workers.map((w) => w.terminate()))
  return { cpuUs: cpu.user + cpu.system, operations }
}

if (!['files', 'ticks'].includes(mode) || !Number.isSafeInteger(agents) || agents < 1 || !(windowMs > 0)) {
  console.error('usage: per-agent-floor.mjs <files|ticks> <agents> <windowMs> [dir]')
  process.exit(2)
}
const result = mode === 'files' ? await files() : await ticks()
console.log(JSON.stringify({ ...result, windowMs, perAgentSecondUs: result.cpuUs / agents / (windowMs / 1000) }))
