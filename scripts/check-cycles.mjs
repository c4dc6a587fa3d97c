#!/usr/bin/env node
// `pnpm run check-cycles` (issue 18): no import circle inside any package's or app's src/, and no package
// importing one SPEC §1 does not allow it. Imports are read and resolved by TypeScript itself
// (type-only imports count: a circle of types is still a circle for a reader). Exits 1 naming each circle.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

// SPEC §1 "may depend on": the @igor packages each one may import (apps may import any package).
// Every package may import @igor/errors, the typed-error base (issue 18).
const ALLOWED = {
  '@igor/errors': [],
  '@igor/epoch': ['@igor/errors'],
  '@igor/atomic-file': ['@igor/errors'],
  '@igor/identity': ['@igor/atomic-file', '@igor/errors'],
  '@igor/lease': ['@igor/epoch', '@igor/errors'],
  '@igor/checkpoint-codec': ['@igor/epoch', '@igor/identity', '@igor/errors'],
  '@igor/sandbox': ['@igor/identity', '@igor/atomic-file', '@igor/errors'],
  '@igor/replay': ['@igor/sandbox', '@igor/identity', '@igor/errors'],
  '@igor/runner': ['@igor/epoch', '@igor/checkpoint-codec', '@igor/lease', '@igor/identity', '@igor/atomic-file', '@igor/sandbox', '@igor/replay', '@igor/errors'],
  '@igor/migration': ['@igor/epoch', '@igor/checkpoint-codec', '@igor/lease', '@igor/identity', '@igor/runner', '@igor/errors'],
  '@igor/inspector': ['@igor/epoch', '@igor/checkpoint-codec', '@igor/identity', '@igor/errors'],
  '@igor/sdk': ['@igor/errors'],
  '@igor/create-agent': ['@igor/sdk', '@igor/errors'],
  '@igor/inspect': ['@igor/inspector', '@igor/errors'],
  // Private, tests only: may not import any package that imports it back.
  '@igor/test-kit': ['@igor/errors']
}
const APPS = new Set(['igord', 'verify-web'])

function sourceFiles(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (/\.ts$/.test(name) && !/\.d\.ts$/.test(name) && !/\.test(-helper)?\.ts$/.test(name)) out.push(path)
  }
  return out
}

const workspaces = ['packages', 'apps'].flatMap((group) => readdirSync(join(ROOT, group)).map((name) => join(ROOT, group, name)))
  .filter((dir) => { try { return statSync(join(dir, 'src')).isDirectory() } catch { return false } })

const problems = []
const options = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowJs: false }
const host = ts.createCompilerHost(options)

for (const dir of workspaces) {
  const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name
  const files = sourceFiles(join(dir, 'src'))
  const graph = new Map()
  for (const file of files) {
    const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => i.fileName)
    const local = []
    for (const spec of imports) {
      if (spec.startsWith('.')) {
        const resolved = ts.resolveModuleName(spec, file, options, host).resolvedModule?.resolvedFileName
        if (resolved !== undefined && !resolved.endsWith('.d.ts')) local.push(resolved)
        continue
      }
      if (!spec.startsWith('@igor/') || APPS.has(name)) continue
      const pkg = spec.split('/').slice(0, 2).join('/')
      const allowed = ALLOWED[name]
      if (allowed === undefined) problems.push(`${name} is not in the SPEC §1 table of scripts/check-cycles.mjs`)
      else if (!allowed.includes(pkg)) problems.push(`${name} imports ${pkg}, which SPEC §1 does not allow (${relative(ROOT, file)})`)
    }
    graph.set(file, local)
  }
  // Tarjan's strongly connected components: every component of more than one file is a circle.
  let index = 0
  const stack = []
  const meta = new Map()
  const strong = (v) => {
    meta.set(v, { index, low: index, onStack: true })
    index++
    stack.push(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!meta.has(w)) { strong(w); meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low) } else if (meta.get(w).onStack) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index)
    }
    if (meta.get(v).low === meta.get(v).index) {
      const component = []
      let w
      do { w = stack.pop(); meta.get(w).onStack = false; component.push(w) } while (w !== v)
      if (component.length > 1) problems.push(`import circle in ${name}: ${component.map((f) => relative(ROOT, f)).sort().join(' ↔ ')}`)
    }
  }
  for (const file of graph.keys()) if (!meta.has(file)) strong(file)
}

if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`check-cycles: ${p}\n`)
  process.exit(1)
}
process.stdout.write(`check-cycles: no import circle in ${workspaces.length} packages and apps; every package imports only what SPEC §1 allows\n`)
