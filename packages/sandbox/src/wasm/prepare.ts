import { createHash } from 'node:crypto'
import { ModuleError } from '../errors.js'
import { CAPABILITY_IMPORTS, capabilityForImport } from '../manifest/capabilities.js'
import type { CapabilityName } from '../manifest/capabilities.js'
import { NODE_MEMORY_LIMIT_BYTES, WASM_PAGE_BYTES } from '../manifest/manifest.js'
import type { Manifest } from '../manifest/manifest.js'
import { IGOR_MODULE, REQUIRED_EXPORTS, WASI_MODULE, WASI_PREVIEW1_FUNCTIONS } from './abi.js'
import { WasmFormatError } from './leb128.js'
import { WASM32_MAX_PAGES, capModuleMemory } from './memory-cap.js'
import { checkModuleLimits } from './module-limits.js'
import { INTERRUPT_IMPORT, INTERRUPT_MODULE, addInterruptChecks } from './interrupt-checks.js'
import type { CappedModule } from './memory-cap.js'

export interface PreparedAgent {
  /** Compiled from the capped bytes: `memory.grow` past `memoryMaxPages` returns -1. */
  module: WebAssembly.Module
  /** SHA-256 of the ORIGINAL bytes, as checkpoints record it (SPEC §4). */
  wasmHash: Uint8Array
  /** The `igor` capabilities the module imports (all declared by the manifest). */
  capabilities: ReadonlySet<CapabilityName>
  /** Whether it imports anything from `wasi_snapshot_preview1`. */
  usesWasi: boolean
  /** Run once after instantiation (SPEC §5 agent ABI). */
  entry: '_start' | '_initialize' | null
  memoryMaxPages: number
}

export interface PrepareOptions {
  /** Names the file in every error. */
  path: string
  manifest: Manifest
  /** Defaults to `NODE_MEMORY_LIMIT_BYTES` (64 MiB). */
  nodeMemoryLimitBytes?: number
}

/** The memory cap in pages: min(node limit, manifest limit), rounded down to whole pages. */
export function memoryCapPages(nodeMemoryLimitBytes: number, manifestLimitBytes: number | null): number {
  const bytes = Math.min(nodeMemoryLimitBytes, manifestLimitBytes ?? Number.POSITIVE_INFINITY)
  return Math.min(Math.floor(bytes / WASM_PAGE_BYTES), WASM32_MAX_PAGES)
}

/**
 * Validates an agent binary against the ABI and its manifest, caps its memory
 * and compiles it. Each refusal is a `ModuleError` naming the file and the
 * missing or offending piece (SPEC §10).
 */
export async function prepareAgentModule(wasm: Uint8Array, options: PrepareOptions): Promise<PreparedAgent> {
  const { path, manifest } = options
  const maxPages = memoryCapPages(options.nodeMemoryLimitBytes ?? NODE_MEMORY_LIMIT_BYTES, manifest.maxMemoryBytes)
  const capped = await capOrExplain(wasm, maxPages, path)

  let module: WebAssembly.Module
  try {
    module = await WebAssembly.compile(capped.bytes)
  } catch (error) {
    throw compileFailure(path, error)
  }

  const entry = checkExports(path, WebAssembly.Module.exports(module))
  const { capabilities, usesWasi } = checkImports(path, withoutInterruptImport(WebAssembly.Module.imports(module)), manifest)
  return {
    module,
    wasmHash: new Uint8Array(createHash('sha256').update(wasm).digest()),
    capabilities,
    usesWasi,
    entry,
    // checkExports guarantees a memory, and the walker saw every defined memory.
    memoryMaxPages: capped.memory?.maximum ?? 0
  }
}

async function capOrExplain(wasm: Uint8Array, maxPages: number, path: string): Promise<CappedModule> {
  try {
    // SPEC §11: structure caps first (tables rewritten), then the memory cap, then the
    // interruption checks ("Sharing a thread, fairly"); nothing is compiled before all pass.
    const capped = capModuleMemory(checkModuleLimits(wasm), maxPages)
    return { ...capped, bytes: addInterruptChecks(capped.bytes) }
  } catch (error) {
    if (error instanceof ModuleError) throw new ModuleError(error.code, `${path}: ${error.message}`, { cause: error })
    if (!(error instanceof WasmFormatError)) throw error
    // The engine's own words are the better explanation of a damaged module.
    try {
      await WebAssembly.compile(wasm.slice())
    } catch (compileError) {
      throw compileFailure(path, compileError)
    }
    throw new ModuleError('WASM_INVALID', `${path}: ${error.message}`, { cause: error })
  }
}

function compileFailure(path: string, error: unknown): unknown {
  if (error instanceof Error && error.name === 'CompileError') {
    return new ModuleError('WASM_INVALID', `${path}: ${error.message}`, { cause: error })
  }
  return error
}

function checkExports(path: string, exports: WebAssembly.ModuleExportDescriptor[]): PreparedAgent['entry'] {
  const kinds = new Map(exports.map((e) => [e.name, e.kind]))
  for (const name of REQUIRED_EXPORTS) {
    const expected = name === 'memory' ? 'memory' : 'function'
    const kind = kinds.get(name)
    if (kind === undefined) throw new ModuleError('MISSING_EXPORT', `${path}: missing export "${name}"`)
    if (kind !== expected) throw new ModuleError('MISSING_EXPORT', `${path}: export "${name}" is a ${kind}, expected a ${expected}`)
  }
  const entries = (['_start', '_initialize'] as const).filter((name) => kinds.has(name))
  for (const name of entries) {
    if (kinds.get(name) !== 'function') throw new ModuleError('WASM_INVALID', `${path}: export "${name}" is a ${kinds.get(name)}, expected a function`)
  }
  if (entries.length > 1) {
    // A module is either a command or a reactor; running both entry points would initialise twice.
    throw new ModuleError('WASM_INVALID', `${path}: exports both "_start" and "_initialize"; an agent may have at most one`)
  }
  return entries[0] ?? null
}

/** The import the interruption pass added (always the last one); an agent's own import of that name is still refused. */
function withoutInterruptImport(imports: WebAssembly.ModuleImportDescriptor[]): WebAssembly.ModuleImportDescriptor[] {
  const last = imports.at(-1)
  return last?.module === INTERRUPT_MODULE && last.name === INTERRUPT_IMPORT ? imports.slice(0, -1) : imports
}

function checkImports(
  path: string,
  imports: WebAssembly.ModuleImportDescriptor[],
  manifest: Manifest
): { capabilities: Set<CapabilityName>, usesWasi: boolean } {
  const capabilities = new Set<CapabilityName>()
  let usesWasi = false
  for (const { module, name, kind } of imports) {
    const full = `${module}.${name}`
    if (kind === 'memory') throw new ModuleError('WASM_INVALID', `${path}: imports its memory (${full}); an agent must define its own`)
    if (module === IGOR_MODULE) {
      const capability = capabilityForImport(name)
      if (capability === undefined) {
        throw new ModuleError('UNKNOWN_IMPORT', `${path}: unknown import ${full} (the igor module provides ${Object.values(CAPABILITY_IMPORTS).join(', ')})`)
      }
      if (kind !== 'function') throw new ModuleError('UNKNOWN_IMPORT', `${path}: import ${full} is a ${kind}, expected a function`)
      if (!manifest.capabilities.has(capability)) {
        const where = manifest.source === null ? 'no manifest was found' : `manifest: ${manifest.source}`
        throw new ModuleError('UNDECLARED_CAPABILITY', `${path} imports ${full} but the manifest does not declare capability "${capability}" (${where})`)
      }
      capabilities.add(capability)
    } else if (module === WASI_MODULE) {
      if (!WASI_PREVIEW1_FUNCTIONS.includes(name)) throw new ModuleError('UNKNOWN_IMPORT', `${path}: unknown import ${full} (not a WASI preview1 function)`)
      if (kind !== 'function') throw new ModuleError('UNKNOWN_IMPORT', `${path}: import ${full} is a ${kind}, expected a function`)
      usesWasi = true
    } else {
      throw new ModuleError('UNKNOWN_IMPORT', `${path}: unknown import ${full} (agents may import only from "${IGOR_MODULE}" and "${WASI_MODULE}")`)
    }
  }
  return { capabilities, usesWasi }
}
