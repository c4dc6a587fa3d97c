/**
 * The build preset (SPEC §13): compiles an agent with the AssemblyScript
 * compiler in-process, with the flags an Igor agent needs, checks the module
 * against its manifest the way igord will, and writes `<out>.wasm` plus the
 * sidecar `<out>.manifest.json` igord reads next to it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CAPABILITY_IMPORTS, MORE_IMPORTS } from './test-host.js'
import type { ManifestJson } from './test-host.js'

/** The SDK folder (holds assembly/, asc-lib/, asconfig.json). */
export const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The exports every agent must have (SPEC §5). */
export const ABI_EXPORTS = Object.freeze(['memory', 'agent_init', 'agent_tick', 'agent_checkpoint', 'agent_checkpoint_ptr', 'agent_resume', 'malloc'])

export interface BuildOptions {
  /** The entry file, e.g. `assembly/index.ts`. */
  entry: string
  /** Where the wasm goes, e.g. `build/agent.wasm`. */
  outFile: string
  /** The manifest (path or object) to check against and copy beside the wasm; null = none (no capabilities). */
  manifest?: string | ManifestJson | null
  /** Folder the paths are relative to (default: the current directory). */
  cwd?: string
  /** Compile-time integer constants (`--use NAME=value`). */
  constants?: Record<string, number | bigint>
  /** Extra asc arguments, appended last. */
  ascArgs?: string[]
}

export interface BuildResult {
  wasmPath: string
  manifestPath: string | null
  bytes: number
  /** Capabilities the module actually imports. */
  capabilities: string[]
}

/** A build that failed: compile errors, or a module igord would refuse. */
export class BuildError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'BuildError'
    this.code = code
  }
}

/** The asc flags of the preset. */
export function presetFlags(): string[] {
  return [
    // Incremental GC: strings, arrays and encoders may allocate every tick without leaking.
    '--runtime', 'incremental',
    // SPEC §5: no env.abort; the SDK's abort traps instead.
    // One library file, given absolute: asc reads a single-file --lib from its own folder.
    '--lib', join(SDK_DIR, 'asc-lib', 'igor_abort.ts'),
    '--use', 'abort=igorAbort',
    '--optimizeLevel', '3',
    '--shrinkLevel', '1',
    '--noColors'
  ]
}

function sink(): { write(chunk: string | Uint8Array): boolean, text(): string } {
  const chunks: string[] = []
  return {
    write(chunk) { chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')); return true },
    text() { return chunks.join('') }
  }
}

function loadManifest(manifest: string | ManifestJson | null | undefined, cwd: string): { json: ManifestJson | null, text: string | null } {
  if (manifest === null || manifest === undefined) return { json: null, text: null }
  if (typeof manifest === 'object') return { json: manifest, text: `${JSON.stringify(manifest, null, 2)}\n` }
  const path = resolve(cwd, manifest)
  if (!existsSync(path)) throw new BuildError('MANIFEST_MISSING', `manifest ${manifest} not found`)
  const text = readFileSync(path, 'utf8')
  try {
    return { json: JSON.parse(text) as ManifestJson, text }
  } catch (error) {
    throw new BuildError('MANIFEST_INVALID', `manifest ${manifest} is not valid JSON: ${(error as Error).message}`)
  }
}

/** Checks imports and exports the way igord will (SPEC §5, §13); returns the capabilities used. */
export function checkModule(binary: Uint8Array, manifest: ManifestJson | null, label: string): string[] {
  const module = new WebAssembly.Module(binary)
  const declared = new Set(Object.keys(manifest?.capabilities ?? {}))
  const byImport = new Map<string, string>([...Object.entries(CAPABILITY_IMPORTS).map(([cap, fn]): [string, string] => [fn, cap]), ...Object.entries(MORE_IMPORTS)])
  const used = new Set<string>()
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    const capability = from === 'igor' ? byImport.get(name) : undefined
    if (capability === undefined) throw new BuildError('IMPORT_REFUSED', `${label} imports ${from}.${name}, which igord does not provide`)
    if (!declared.has(capability)) {
      throw new BuildError('CAPABILITY_MISSING', `${label} imports igor.${name}: add "${capability}": {"version": 1} to the manifest's capabilities`)
    }
    used.add(capability)
  }
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name))
  const missing = ABI_EXPORTS.filter((name) => !exports.has(name))
  if (missing.length > 0) {
    throw new BuildError('ABI_MISSING_EXPORT', `${label} does not export ${missing.join(', ')}: add \`export * from "@igor/sdk/exports"\` to the entry file`)
  }
  return [...used]
}

/** Compiles one agent. Throws BuildError with the compiler's diagnostics on failure. */
export async function buildAgent(options: BuildOptions): Promise<BuildResult> {
  const cwd = resolve(options.cwd ?? process.cwd())
  const { json: manifest, text: manifestText } = loadManifest(options.manifest, cwd)
  const { default: asc } = await import('assemblyscript/asc')
  const flags = [relative(cwd, resolve(cwd, options.entry)), ...presetFlags(), '--outFile', 'out.wasm']
  for (const [name, value] of Object.entries(options.constants ?? {})) flags.push('--use', `${name}=${value}`)
  flags.push(...(options.ascArgs ?? []))
  const stdout = sink()
  const stderr = sink()
  let binary: Uint8Array | null = null
  const { error } = await asc.main(['--baseDir', cwd, ...flags], {
    stdout,
    stderr,
    // Keep the binary in memory: nothing is written before it passed the checks.
    writeFile(name: string, contents: Uint8Array | string) {
      if (name === 'out.wasm' && contents instanceof Uint8Array) binary = contents
    }
  })
  const diagnostics = stderr.text().trim()
  if (error !== null) throw new BuildError('COMPILE_FAILED', `${options.entry}: asc failed: ${error.message}${diagnostics === '' ? '' : `\n${diagnostics}`}`)
  if (binary === null) throw new BuildError('COMPILE_FAILED', `${options.entry}: asc produced no binary`)
  const wasm: Uint8Array = binary
  const capabilities = checkModule(wasm, manifest, options.entry)
  const wasmPath = resolve(cwd, options.outFile)
  mkdirSync(dirname(wasmPath), { recursive: true })
  writeAtomic(wasmPath, wasm)
  let manifestPath: string | null = null
  if (manifestText !== null) {
    // igord reads `foo.manifest.json` next to `foo.wasm` (SPEC §5).
    manifestPath = join(dirname(wasmPath), `${basename(wasmPath).replace(/\.wasm$/, '')}.manifest.json`)
    writeAtomic(manifestPath, manifestText)
  }
  return { wasmPath, manifestPath, bytes: wasm.length, capabilities }
}

function writeAtomic(path: string, contents: Uint8Array | string): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, contents)
  renameSync(tmp, path)
}
