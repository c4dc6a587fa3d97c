#!/usr/bin/env node
/**
 * Long run of the SPEC §11 survival property (the vitest test runs 48 modules
 * with a fixed seed): many generated and byte-mutated agent modules through
 * load and a few ticks in one process, which must survive.
 *
 * usage: node scripts/fuzz-modules.mjs [--runs N] [--seed S] [--rounds R]
 * Needs `pnpm --filter @igor/runner build` first. Exit 1 if a process died.
 */
import { parseArgs } from 'node:util'
import { runSurvivalProperty } from '../packages/runner/fuzz/run-property.mjs'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '500' }, seed: { type: 'string' }, rounds: { type: 'string', default: '4' } } })
const runs = Number(values.runs)
const rounds = Number(values.rounds)
let seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed)
let failed = false
for (let round = 0; round < rounds; round++, seed++) {
  const started = Date.now()
  const result = await runSurvivalProperty({ seed, runs, timeoutMs: 30 * 60_000 })
  const ok = result.code === 0 && result.signal === null
  console.log(JSON.stringify({ round, seed, ok, seconds: (Date.now() - started) / 1000, written: result.written, code: result.code, signal: result.signal, ...result.summary }))
  if (!ok) {
    failed = true
    console.error(`seed ${seed}: the process died (${result.signal ?? `exit ${result.code}`}); reproduce with --seed ${seed} --rounds 1 --runs ${runs}\n${result.stderr}`)
  }
}
process.exit(failed ? 1 : 0)
