// Cost of the SPEC §11 in-call marker on a tick: two 1-byte positional writes
// (no fsync) around each call into an agent. Run: node bench/containment/marker-cost.mjs
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CallMarker } from '@igor/sandbox'

const dir = mkdtempSync(join(tmpdir(), 'igor-marker-bench-'))
const { marker } = CallMarker.open(dir)
const call = async () => 1
const N = 200_000

async function time(label, run) {
  for (let i = 0; i < 20_000; i++) await run() // warm-up
  const started = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await run()
  const ns = Number(process.hrtime.bigint() - started) / N
  console.log(`${label.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/call`)
  return ns
}

const bare = await time('call without marker', call)
const marked = await time('call inside marker.around', () => marker.around('agent', 'agent_tick', call))
console.log(`${'marker cost per tick'.padEnd(34)} ${(marked - bare).toFixed(0).padStart(6)} ns`)
marker.close()
rmSync(dir, { recursive: true, force: true })
