// Builds every agent in the registry to build/<name>.wasm plus its sidecar
// build/<name>.manifest.json, using the AssemblyScript compiler in-process.
// Exits non-zero on any compile error or ABI violation. Deterministic: same
// sources and flags → same bytes (paths embedded are relative to this package).
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import asc from 'assemblyscript/asc'
import { buildAgent, presetFlags } from '@igor/sdk'
import { ABI_EXPORTS, AGENTS, CAPABILITY_IMPORTS, manifestFor } from './agents.mjs'

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)))
const buildDir = join(packageDir, 'build')

// SPEC §5: agents import only igor.*. The fixture agents use the SDK's preset
// flags (its trapping abort, so no env.abort; -O3, shrink 1) with one change:
// the stub runtime (bump allocator, never frees), which keeps env.seed/env.trace
// out too and gives them the exact memory behaviour the tests rely on.
function stubRuntimeFlags() {
  const flags = presetFlags()
  const at = flags.indexOf('--runtime')
  if (at < 0) throw new Error('the @igor/sdk preset has no --runtime flag to replace')
  flags[at + 1] = 'stub'
  return flags
}
const COMMON_FLAGS = stubRuntimeFlags()

class BuildError extends Error {
  constructor(agent, message) {
    super(`${agent}: ${message}`)
    this.name = 'BuildError'
  }
}

function sink() {
  const chunks = []
  return {
    write(chunk) { chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')); return true },
    text() { return chunks.join('') }
  }
}

// Demo agents use the SDK's build preset (incremental GC, the SDK's abort),
// exactly what an author outside this repository gets from `igor-build`.
async function compileWithSdk(agent) {
  const outFile = join(buildDir, `.${agent.name}.sdk.wasm`)
  try {
    await buildAgent({ cwd: packageDir, entry: agent.entry, outFile, manifest: manifestFor(agent), constants: agent.constants ?? {} })
  } catch (err) {
    throw new BuildError(agent.name, err.message)
  }
  const binary = readFileSync(outFile)
  rmSync(outFile)
  rmSync(outFile.replace(/\.wasm$/, '.manifest.json'), { force: true })
  return new Uint8Array(binary)
}

async function compile(agent) {
  if (agent.sdk === true) return compileWithSdk(agent)
  const outFile = `build/${agent.name}.wasm`
  const flags = [agent.entry, ...COMMON_FLAGS, '--outFile', outFile]
  for (const [name, value] of Object.entries(agent.constants ?? {})) flags.push('--use', `${name}=${value}`)
  const stdout = sink()
  const stderr = sink()
  let binary = null
  const { error } = await asc.main(flags, {
    stdout,
    stderr,
    // Keep the binary in memory: nothing reaches build/ before it is checked.
    writeFile(name, contents) {
      if (name === outFile || name.endsWith(`${agent.name}.wasm`)) binary = contents
    }
  })
  const diagnostics = stderr.text().trim()
  if (error !== null) throw new BuildError(agent.name, `asc failed: ${error.message}\n${diagnostics}`)
  if (diagnostics !== '') process.stderr.write(`${diagnostics}\n`)
  if (!(binary instanceof Uint8Array)) throw new BuildError(agent.name, 'asc produced no binary')
  return binary
}

// The built module must match its manifest exactly: every import is an igor.*
// function of a declared capability, and every declared capability is used.
function checkAbi(agent, binary) {
  const module = new WebAssembly.Module(binary)
  const allowed = new Map(Object.entries(CAPABILITY_IMPORTS).map(([cap, fn]) => [fn, cap]))
  const used = new Set()
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    const cap = from === 'igor' && kind === 'function' ? allowed.get(name) : undefined
    if (cap === undefined || !agent.capabilities.includes(cap)) {
      throw new BuildError(agent.name, `imports ${from}.${name}, which its capabilities [${agent.capabilities.join(', ')}] do not grant`)
    }
    used.add(cap)
  }
  const unused = agent.capabilities.filter((cap) => !used.has(cap))
  if (unused.length > 0) throw new BuildError(agent.name, `declares capabilities it never imports: ${unused.join(', ')}`)
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name))
  const missing = ABI_EXPORTS.filter((name) => !exports.has(name))
  if (missing.length > 0) throw new BuildError(agent.name, `missing exports: ${missing.join(', ')}`)
  return [...used]
}

function writeAtomic(path, contents) {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, contents)
  renameSync(tmp, path)
}

async function main() {
  process.chdir(packageDir) // asc resolves entries and --use paths from here
  rmSync(buildDir, { recursive: true, force: true }) // no stale agents
  mkdirSync(buildDir, { recursive: true })
  for (const agent of AGENTS) {
    const binary = await compile(agent)
    const caps = checkAbi(agent, binary)
    writeAtomic(join(buildDir, `${agent.name}.wasm`), binary)
    writeAtomic(join(buildDir, `${agent.name}.manifest.json`), `${JSON.stringify(manifestFor(agent), null, 2)}\n`)
    console.log(`built ${agent.name}.wasm (${binary.length} bytes, capabilities: ${caps.length > 0 ? caps.join(', ') : 'none'})`)
  }
}

main().catch((err) => {
  console.error(err instanceof BuildError ? `agents build failed: ${err.message}` : err)
  process.exit(1)
})
