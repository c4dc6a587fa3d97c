import { ModuleError } from '../errors.js'
import { WASM_PAGE_BYTES } from '../manifest/manifest.js'
import { WasmFormatError, encodeU32, readU32, readUnsigned, skipS33 } from './leb128.js'

/** Pages a 32-bit memory may have at most (4 GiB). */
export const WASM32_MAX_PAGES = 65536

const MAGIC = [0x00, 0x61, 0x73, 0x6d]
const SECTION_IMPORT = 2
const SECTION_MEMORY = 5
const IMPORT_KIND = { function: 0, table: 1, memory: 2, global: 3, tag: 4 } as const
const LIMITS_HAS_MAX = 0x01
const LIMITS_SHARED = 0x02
const LIMITS_64 = 0x04

export interface MemoryLimits {
  initial: number
  /** The maximum after capping. */
  maximum: number
}

export interface CappedModule {
  /** Always a fresh copy backed by a plain ArrayBuffer (what `WebAssembly.compile` takes). */
  bytes: Uint8Array<ArrayBuffer>
  /** The module's one defined memory, or null when it defines none. */
  memory: MemoryLimits | null
}

/**
 * Returns new module bytes whose single defined memory has
 * `maximum = min(declared maximum, maxPages)`, so `memory.grow` beyond the cap
 * fails inside the agent with -1 (SPEC §5 limits). Only the memory section is
 * rewritten; every other section is copied byte for byte.
 */
export function capMemoryMaximum(wasm: Uint8Array, maxPages: number): Uint8Array<ArrayBuffer> {
  return capModuleMemory(wasm, maxPages).bytes
}

/** `capMemoryMaximum` plus the resulting limits. Structural damage raises `WasmFormatError`. */
export function capModuleMemory(wasm: Uint8Array, maxPages: number): CappedModule {
  if (!Number.isInteger(maxPages) || maxPages < 0 || maxPages > WASM32_MAX_PAGES) {
    throw new RangeError(`maxPages must be an integer in 0 … ${WASM32_MAX_PAGES}, got ${maxPages}`)
  }
  checkPreamble(wasm)
  let memorySection: { start: number, end: number, limits: { initial: number, maximum: number | null } } | null = null
  let offset = 8
  while (offset < wasm.length) {
    const start = offset
    const id = wasm[offset] as number
    const size = readU32(wasm, offset + 1)
    const end = size.next + size.value
    if (end > wasm.length) throw new WasmFormatError(`section ${id} at offset ${start} runs past the end of the module`)
    if (id === SECTION_IMPORT) refuseImportedMemory(wasm, size.next, end)
    if (id === SECTION_MEMORY) {
      if (memorySection !== null) throw new WasmFormatError(`second memory section at offset ${start}`)
      const limits = readMemorySection(wasm, size.next, end)
      if (limits !== null) memorySection = { start, end, limits }
    }
    offset = end
  }
  if (memorySection === null) return { bytes: wasm.slice(), memory: null }

  const { initial, maximum } = memorySection.limits
  if (initial > maxPages) {
    throw new ModuleError('MEMORY_LIMIT', `memory initial size ${initial} pages (${mib(initial)}) exceeds the limit of ${maxPages} pages (${mib(maxPages)})`)
  }
  if (maximum !== null && maximum <= maxPages) return { bytes: wasm.slice(), memory: { initial, maximum } }

  const payload = [1, LIMITS_HAS_MAX, ...encodeU32(initial), ...encodeU32(maxPages)]
  const section = [SECTION_MEMORY, ...encodeU32(payload.length), ...payload]
  const out = new Uint8Array(memorySection.start + section.length + (wasm.length - memorySection.end))
  out.set(wasm.subarray(0, memorySection.start), 0)
  out.set(section, memorySection.start)
  out.set(wasm.subarray(memorySection.end), memorySection.start + section.length)
  return { bytes: out, memory: { initial, maximum: maxPages } }
}

function checkPreamble(wasm: Uint8Array): void {
  if (wasm.length < 8 || MAGIC.some((byte, i) => wasm[i] !== byte)) {
    throw new ModuleError('WASM_INVALID', 'not a WebAssembly module (bad magic)')
  }
  const version = new DataView(wasm.buffer, wasm.byteOffset, wasm.byteLength).getUint32(4, true)
  if (version !== 1) {
    // 0x0001000d is a component (component model), not a core module.
    throw new ModuleError('WASM_INVALID', `unsupported WebAssembly binary version 0x${version.toString(16).padStart(8, '0')} (only core modules, version 1, can be agents)`)
  }
}

/** The limits of the one memory in a memory section, or null for an empty section. */
function readMemorySection(wasm: Uint8Array, start: number, end: number): { initial: number, maximum: number | null } | null {
  const count = readU32(wasm, start)
  if (count.value === 0) return null
  if (count.value > 1) {
    throw new ModuleError('WASM_INVALID', `defines ${count.value} memories; an agent must have exactly one (multi-memory is not supported)`)
  }
  const flags = wasm[count.next]
  if (flags === undefined) throw new WasmFormatError(`unexpected end of module at offset ${count.next}`)
  if ((flags & LIMITS_64) !== 0) throw new ModuleError('WASM_INVALID', 'uses a 64-bit memory (memory64), which is not supported')
  if ((flags & LIMITS_SHARED) !== 0) throw new ModuleError('WASM_INVALID', 'uses a shared memory, which is not supported')
  if (flags > (LIMITS_HAS_MAX | LIMITS_SHARED | LIMITS_64)) throw new ModuleError('WASM_INVALID', `unsupported memory limits flags 0x${flags.toString(16)}`)
  const initial = readU32(wasm, count.next + 1)
  let next = initial.next
  let maximum: number | null = null
  if ((flags & LIMITS_HAS_MAX) !== 0) {
    const max = readU32(wasm, next)
    maximum = max.value
    next = max.next
  }
  if (next !== end) throw new WasmFormatError(`memory section at offset ${start} has ${end - next} unexpected trailing bytes`)
  for (const [what, pages] of [['initial size', initial.value], ['maximum', maximum]] as const) {
    if (pages !== null && pages > WASM32_MAX_PAGES) {
      throw new ModuleError('WASM_INVALID', `memory ${what} ${pages} pages exceeds the WebAssembly limit of ${WASM32_MAX_PAGES} pages`)
    }
  }
  if (maximum !== null && maximum < initial.value) {
    throw new ModuleError('WASM_INVALID', `memory maximum ${maximum} pages is below its initial size ${initial.value}`)
  }
  return { initial: initial.value, maximum }
}

/** Walks the import section; an imported memory cannot be capped, so it is refused. */
function refuseImportedMemory(wasm: Uint8Array, start: number, end: number): void {
  const count = readU32(wasm, start)
  let offset = count.next
  for (let i = 0; i < count.value; i++) {
    const moduleName = readName(wasm, offset)
    const fieldName = readName(wasm, moduleName.next)
    offset = fieldName.next
    const kind = wasm[offset++]
    switch (kind) {
      case IMPORT_KIND.function:
        offset = readU32(wasm, offset).next
        break
      case IMPORT_KIND.table:
        offset = skipLimits(wasm, skipRefType(wasm, offset))
        break
      case IMPORT_KIND.memory:
        throw new ModuleError('WASM_INVALID', `imports its memory (${moduleName.value}.${fieldName.value}); an agent must define its own`)
      case IMPORT_KIND.global:
        offset = skipRefType(wasm, offset) + 1 // value type, then mutability
        break
      case IMPORT_KIND.tag:
        offset = readU32(wasm, offset + 1).next // attribute, then type index
        break
      default:
        throw new WasmFormatError(`unknown import kind ${kind ?? 'missing'} at offset ${offset - 1}`)
    }
    if (offset > end) throw new WasmFormatError(`import section at offset ${start} runs past its end`)
  }
}

const utf8 = new TextDecoder()

function readName(wasm: Uint8Array, offset: number): { value: string, next: number } {
  const length = readU32(wasm, offset)
  const next = length.next + length.value
  if (next > wasm.length) throw new WasmFormatError(`name at offset ${offset} runs past the end of the module`)
  return { value: utf8.decode(wasm.subarray(length.next, next)), next }
}

/** A value or reference type: one byte, or `ref`/`ref null` followed by a heap type. */
function skipRefType(wasm: Uint8Array, offset: number): number {
  const byte = wasm[offset]
  if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${offset}`)
  return byte === 0x63 || byte === 0x64 ? skipS33(wasm, offset + 1) : offset + 1
}

function skipLimits(wasm: Uint8Array, offset: number): number {
  const flags = wasm[offset]
  if (flags === undefined) throw new WasmFormatError(`unexpected end of module at offset ${offset}`)
  const bits = (flags & LIMITS_64) !== 0 ? 64 : 32
  let next = readUnsigned(wasm, offset + 1, bits).next
  if ((flags & LIMITS_HAS_MAX) !== 0) next = readUnsigned(wasm, next, bits).next
  return next
}

function mib(pages: number): string {
  const bytes = pages * WASM_PAGE_BYTES
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`
}
