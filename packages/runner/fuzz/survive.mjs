/**
 * Child process of the survival property (SPEC §11): loads every `*.wasm` of
 * a directory (manifest sidecars beside them) into the real runner, built:
 * NodeRuntime.startAgent, three passes of the tick loop, then a shutdown with
 * final checkpoints — eight agents per runtime, all in this one process. If
 * any module can abort the process, this process dies and the parent sees it.
 * Prints one JSON summary line on success.
 *
 * usage: node survive.mjs <dir-with-wasm> <scratch-dir>
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { NodeRuntime, silentLogger } from '@igor/runner'

const BATCH = 8
const [dir, scratch] = process.argv.slice(2)
const files = (await readdir(dir)).filter((f) => f.endsWith('.wasm')).sort()
const outcomes = { modules: files.length, loaded: 0, refused: 0, failedAtStart: 0, haltedAfterLoad: 0, ticks: 0 }
const halts = {}
const refusedBy = {}
const idle = { tickIntervalMs: 3_600_000, busyIntervalMs: 3_600_000, checkpointIntervalMs: 3_600_000 }

for (let first = 0; first < files.length; first += BATCH) {
  const runtime = await NodeRuntime.open({ dataDir: join(scratch, `batch-${first}`), lease: null, pricePerSecond: 1000n, logger: silentLogger, timing: idle })
  for (const file of files.slice(first, first + BATCH)) {
    const agentId = file.replace(/\.wasm$/, '')
    try {
      await runtime.startAgent({ wasmPath: join(dir, file), agentId, budget: 1_000_000_000n })
    } catch (error) {
      outcomes.refused++
      const code = error?.code ?? error?.name ?? 'unknown'
      refusedBy[code] = (refusedBy[code] ?? 0) + 1
      continue
    }
    outcomes.loaded++
    const host = runtime.host(agentId)
    if (host === undefined) {
      outcomes.failedAtStart++
      continue
    }
    for (let i = 0; i < 3; i++) {
      if (!await host.tickOnce().catch(() => false)) break
      outcomes.ticks++
    }
    const halted = host.status().halted
    if (halted !== null) {
      outcomes.haltedAfterLoad++
      const kind = halted.replace(/[0-9]+/g, 'N').slice(0, 60)
      halts[kind] = (halts[kind] ?? 0) + 1
    }
  }
  await runtime.shutdown()
}
process.stdout.write(`${JSON.stringify({ ...outcomes, refusedBy, halts })}\n`)
