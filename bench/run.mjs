#!/usr/bin/env node
// Benchmark harness: `node bench/run.mjs [--json] [--quick] [--strict] [suite …]`.
// Runs every bench/suites/*.mjs (sorted by file name), or only the suites whose
// name contains one of the given words, prints a table, and with --json merges
// the figures into bench/results.json by entry name.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { entry, measure, measureAll, pairedRatio } from './lib/measure.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const suitesDir = join(here, 'suites')
const resultsPath = join(here, 'results.json')

function usage(message) {
  if (message) console.error(`bench: ${message}`)
  console.error('usage: node bench/run.mjs [--json] [--quick] [--strict] [suite …]')
  process.exit(2)
}

let args
try {
  args = parseArgs({
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, strict: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }
  })
} catch (error) {
  usage(error.message.split('. ')[0])
}
if (args.values.help) usage()

/** Loads every suite; one that fails to import is kept (named after its file) and fails only if selected. */
async function loadSuites() {
  const files = readdirSync(suitesDir).filter((f) => f.endsWith('.mjs')).sort()
  const suites = []
  for (const file of files) {
    const fallbackName = file.replace(/\.mjs$/, '')
    try {
      const mod = await import(pathToFileURL(join(suitesDir, file)).href)
      if (typeof mod.name !== 'string' || typeof mod.run !== 'function') {
        throw new Error(`bench/suites/${file} must export \`name\` (string) and \`run(ctx)\``)
      }
      suites.push({ file, name: mod.name, run: mod.run })
    } catch (error) {
      suites.push({ file, name: fallbackName, run: () => { throw error } })
    }
  }
  return suites
}

function formatNumber(value) {
  if (value === null || value === undefined) return ''
  if (!Number.isFinite(value)) return String(value)
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function printTable(rows) {
  const header = ['name', 'value', 'unit', 'ratio', 'target', 'ok']
  const cells = rows.map((r) => [
    r.name, formatNumber(r.value), r.unit, r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`, r.target ?? '',
    r.ok === null ? '' : r.ok ? 'yes' : 'NO'
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const right = new Set([1, 3])
  const fmt = (c) => c.map((v, i) => (right.has(i) ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd()
  console.log(fmt(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const c of cells) console.log(fmt(c))
  for (const r of rows) if (r.note) console.log(`  ${r.name}: ${r.note}`)
}

function mergeResults(rows) {
  let existing = []
  if (existsSync(resultsPath)) {
    try {
      const parsed = JSON.parse(readFileSync(resultsPath, 'utf8'))
      if (Array.isArray(parsed)) existing = parsed
    } catch {
      console.error(`bench: ${resultsPath} was not valid JSON; rewriting it`)
    }
  }
  const byName = new Map(existing.map((e) => [e.name, e]))
  for (const r of rows) byName.set(r.name, { name: r.name, ratio: r.ratio, target: r.target, value: r.value, unit: r.unit, ok: r.ok })
  writeFileSync(resultsPath, `${JSON.stringify([...byName.values()], null, 2)}\n`)
  console.log(`\nwrote ${rows.length} entries to ${resultsPath}`)
}

const all = await loadSuites()
const filters = args.positionals
const selected = filters.length === 0 ? all : all.filter((s) => filters.some((f) => s.name.includes(f)))
if (selected.length === 0) usage(`no suite matches ${filters.join(', ')} (have: ${all.map((s) => s.name).join(', ')})`)

const quick = args.values.quick === true
const timing = quick ? { minTimeMs: 60, minIterations: 5, warmupMs: 15 } : {}
const ctx = {
  quick,
  measure: (fn, options = {}) => measure(fn, { ...timing, ...options }),
  measureAll: (fns, options = {}) => measureAll(fns, { ...timing, ...options }),
  entry,
  pairedRatio,
  log: (message) => console.error(`  ${message}`)
}

const rows = []
let failedSuites = 0
for (const suite of selected) {
  console.error(`running ${suite.name} (${suite.file}) …`)
  try {
    const result = await suite.run(ctx)
    if (!Array.isArray(result)) throw new Error('run(ctx) must return an array of entries')
    rows.push(...result)
  } catch (error) {
    failedSuites++
    console.error(`bench: suite ${suite.name} failed: ${error?.stack ?? error}`)
  }
}

console.log(`\nnode ${process.version}, ${process.platform}/${process.arch}${quick ? ', --quick' : ''}\n`)
printTable(rows)
if (args.values.json) mergeResults(rows)

const missed = rows.filter((r) => r.ok === false)
if (missed.length > 0) console.log(`\n${missed.length} target(s) missed: ${missed.map((r) => r.name).join(', ')}`)
if (failedSuites > 0 || (args.values.strict && missed.length > 0)) process.exitCode = 1
