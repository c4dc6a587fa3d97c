/**
 * SPEC §11 module limits, checked before compiling: every structure the engine
 * allocates for a module is bounded here, so no module that passes can make
 * V8 allocate its way into a fatal out-of-memory (which would end the whole
 * process, not just the agent's worker). Table maxima are rewritten to the
 * cap, like the memory maximum, so `table.grow` past it returns -1 inside the
 * agent.
 */
import { ModuleError } from '../errors.js'
import { WasmFormatError, encodeU32, readU32, readUnsigned, skipS33 } from './leb128.js'

export interface ModuleLimits {
  readonly moduleBytes: number
  readonly types: number
  readonly imports: number
  /** Imported plus defined functions. */
  readonly functions: number
  readonly functionBodyBytes: number
  readonly tables: number
  /** Per table: an initial size above it is refused, a larger (or absent) maximum is rewritten to it. */
  readonly tableEntries: number
  readonly globals: number
  readonly exports: number
  readonly elementSegments: number
  /** Entries across all element segments. */
  readonly elementEntries: number
  readonly dataSegments: number
  readonly tags: number
}

/** The caps (README table). Generous for real TinyGo, Go `wasip1`, Rust and clang output; far below what hurts the node. */
export const MODULE_LIMITS: ModuleLimits = Object.freeze({
  moduleBytes: 64 * 1024 * 1024,
  types: 50_000,
  imports: 1_000,
  functions: 100_000,
  functionBodyBytes: 2 * 1024 * 1024,
  tables: 8,
  tableEntries: 100_000,
  globals: 10_000,
  exports: 10_000,
  elementSegments: 10_000,
  elementEntries: 200_000,
  dataSegments: 50_000,
  tags: 1_000
})

const SECTION = { type: 1, import: 2, function: 3, table: 4, global: 6, export: 7, element: 9, code: 10, data: 11, tag: 13 } as const
const IMPORT_KIND = { function: 0, table: 1, memory: 2, global: 3, tag: 4 } as const
const LIMITS_HAS_MAX = 0x01
const LIMITS_64 = 0x04

function over(what: string, count: number, cap: number, unit = what): never {
  throw new ModuleError('MODULE_LIMIT', `module has ${count} ${what}; the limit is ${cap} ${unit}`)
}

/**
 * Checks `wasm` against `limits` and returns bytes whose table maxima are at
 * most `limits.tableEntries` (the input itself when nothing needed
 * rewriting). A limit exceeded is `MODULE_LIMIT` naming it; structural damage
 * is `WasmFormatError` (the caller asks the engine for its own words).
 */
export function checkModuleLimits(wasm: Uint8Array, limits: ModuleLimits = MODULE_LIMITS): Uint8Array {
  if (wasm.byteLength > limits.moduleBytes) {
    throw new ModuleError('MODULE_LIMIT', `module is ${wasm.byteLength} bytes; the limit is ${limits.moduleBytes} bytes`)
  }
  // Not a core module: the preamble check of the memory cap explains it.
  if (wasm.byteLength < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d || wasm[4] !== 1 || wasm[5] !== 0 || wasm[6] !== 0 || wasm[7] !== 0) return wasm
  const counts = { functions: 0, tables: 0, globals: 0, tags: 0 }
  let tableRewrite: { start: number, end: number, section: number[] } | null = null
  let offset = 8
  while (offset < wasm.length) {
    const start = offset
    const id = wasm[offset] as number
    const size = readU32(wasm, offset + 1)
    const body = size.next
    const end = body + size.value
    if (end > wasm.length) throw new WasmFormatError(`section ${id} at offset ${start} runs past the end of the module`)
    switch (id) {
      case SECTION.type: {
        const n = readU32(wasm, body).value
        if (n > limits.types) over('types', n, limits.types)
        break
      }
      case SECTION.import:
        walkImports(wasm, body, end, limits, counts)
        break
      case SECTION.function:
        counts.functions += readU32(wasm, body).value
        break
      case SECTION.table: {
        const rewritten = checkTables(wasm, body, end, limits, counts)
        if (rewritten !== null) tableRewrite = { start, end, section: [SECTION.table, ...encodeU32(rewritten.length), ...rewritten] }
        break
      }
      case SECTION.global:
        counts.globals += readU32(wasm, body).value
        break
      case SECTION.export: {
        const n = readU32(wasm, body).value
        if (n > limits.exports) over('exports', n, limits.exports)
        break
      }
      case SECTION.element:
        checkElements(wasm, body, end, limits)
        break
      case SECTION.code:
        checkCode(wasm, body, end, limits)
        break
      case SECTION.data: {
        const n = readU32(wasm, body).value
        if (n > limits.dataSegments) over('data segments', n, limits.dataSegments)
        break
      }
      case SECTION.tag:
        counts.tags += readU32(wasm, body).value
        break
    }
    if (counts.functions > limits.functions) over('functions', counts.functions, limits.functions)
    if (counts.globals > limits.globals) over('globals', counts.globals, limits.globals)
    if (counts.tags > limits.tags) over('tags', counts.tags, limits.tags)
    offset = end
  }
  if (tableRewrite === null) return wasm
  const { start, end, section } = tableRewrite
  const out = new Uint8Array(start + section.length + (wasm.length - end))
  out.set(wasm.subarray(0, start), 0)
  out.set(section, start)
  out.set(wasm.subarray(end), start + section.length)
  return out
}

function walkImports(wasm: Uint8Array, start: number, end: number, limits: ModuleLimits, counts: { functions: number, tables: number, globals: number, tags: number }): void {
  const count = readU32(wasm, start)
  if (count.value > limits.imports) over('imports', count.value, limits.imports)
  let offset = count.next
  for (let i = 0; i < count.value; i++) {
    offset = skipName(wasm, skipName(wasm, offset))
    const kind = wasm[offset++]
    switch (kind) {
      case IMPORT_KIND.function:
        counts.functions += 1
        offset = readU32(wasm, offset).next
        break
      case IMPORT_KIND.table: {
        counts.tables += 1
        if (counts.tables > limits.tables) over('tables', counts.tables, limits.tables)
        const table = readTableType(wasm, offset)
        if (table.initial > limits.tableEntries) tableTooBig(counts.tables - 1, table.initial, limits)
        offset = table.next
        break
      }
      case IMPORT_KIND.memory: {
        const flags = wasm[offset] ?? 0
        const bits = (flags & LIMITS_64) !== 0 ? 64 : 32
        offset = readUnsigned(wasm, offset + 1, bits).next
        if ((flags & LIMITS_HAS_MAX) !== 0) offset = readUnsigned(wasm, offset, bits).next
        break
      }
      case IMPORT_KIND.global:
        counts.globals += 1
        offset = skipValueType(wasm, offset) + 1
        break
      case IMPORT_KIND.tag:
        counts.tags += 1
        offset = readU32(wasm, offset + 1).next
        break
      default:
        throw new WasmFormatError(`unknown import kind ${kind ?? 'missing'} at offset ${offset - 1}`)
    }
    if (offset > end) throw new WasmFormatError(`import section at offset ${start} runs past its end`)
  }
}

function tableTooBig(index: number, initial: number, limits: ModuleLimits): never {
  throw new ModuleError('MODULE_LIMIT', `table ${index} has an initial size of ${initial} entries; the limit is ${limits.tableEntries} entries`)
}

/** Returns the rewritten section payload when a maximum had to be lowered (or added), else null. */
function checkTables(wasm: Uint8Array, start: number, end: number, limits: ModuleLimits, counts: { tables: number }): number[] | null {
  const count = readU32(wasm, start)
  if (counts.tables + count.value > limits.tables) over('tables', counts.tables + count.value, limits.tables)
  const payload: number[] = [...encodeU32(count.value)]
  let changed = false
  let offset = count.next
  for (let i = 0; i < count.value; i++) {
    const typeEnd = skipRefType(wasm, offset)
    const table = readTableType(wasm, offset)
    if (table.initial > limits.tableEntries) tableTooBig(counts.tables + i, table.initial, limits)
    payload.push(...wasm.subarray(offset, typeEnd))
    if (table.maximum !== null && table.maximum <= limits.tableEntries) {
      payload.push(...wasm.subarray(typeEnd, table.next))
    } else {
      changed = true
      payload.push(LIMITS_HAS_MAX, ...encodeU32(table.initial), ...encodeU32(limits.tableEntries))
    }
    offset = table.next
  }
  if (offset !== end) throw new WasmFormatError(`table section at offset ${start} has ${end - offset} unexpected bytes`)
  counts.tables += count.value
  return changed ? payload : null
}

function readTableType(wasm: Uint8Array, offset: number): { initial: number, maximum: number | null, next: number } {
  const limitsAt = skipRefType(wasm, offset)
  const flags = wasm[limitsAt]
  if (flags === undefined) throw new WasmFormatError(`unexpected end of module at offset ${limitsAt}`)
  if ((flags & LIMITS_64) !== 0) throw new ModuleError('WASM_INVALID', 'uses a 64-bit table (table64), which is not supported')
  if (flags > LIMITS_HAS_MAX) throw new WasmFormatError(`unsupported table limits flags 0x${flags.toString(16)} at offset ${limitsAt}`)
  const initial = readU32(wasm, limitsAt + 1)
  if ((flags & LIMITS_HAS_MAX) === 0) return { initial: initial.value, maximum: null, next: initial.next }
  const maximum = readU32(wasm, initial.next)
  return { initial: initial.value, maximum: maximum.value, next: maximum.next }
}

function checkElements(wasm: Uint8Array, start: number, end: number, limits: ModuleLimits): void {
  const count = readU32(wasm, start)
  if (count.value > limits.elementSegments) over('element segments', count.value, limits.elementSegments)
  let entries = 0
  let offset = count.next
  for (let i = 0; i < count.value; i++) {
    const flags = readU32(wasm, offset)
    offset = flags.next
    const f = flags.value
    if (f > 7) throw new WasmFormatError(`unknown element segment kind ${f}`)
    if ((f & 0x01) === 0) {
      if ((f & 0x02) !== 0) offset = readU32(wasm, offset).next // table index
      offset = skipConstExpr(wasm, offset)
    }
    const usesExprs = (f & 0x04) !== 0
    if ((f & 0x03) !== 0) offset = usesExprs ? skipRefType(wasm, offset) : offset + 1 // reftype or elemkind
    const n = readU32(wasm, offset)
    entries += n.value
    if (entries > limits.elementEntries) over('element entries', entries, limits.elementEntries)
    offset = n.next
    for (let j = 0; j < n.value; j++) offset = usesExprs ? skipConstExpr(wasm, offset) : readU32(wasm, offset).next
    if (offset > end) throw new WasmFormatError(`element section at offset ${start} runs past its end`)
  }
}

function checkCode(wasm: Uint8Array, start: number, end: number, limits: ModuleLimits): void {
  const count = readU32(wasm, start)
  let offset = count.next
  for (let i = 0; i < count.value; i++) {
    const size = readU32(wasm, offset)
    if (size.value > limits.functionBodyBytes) {
      throw new ModuleError('MODULE_LIMIT', `function body ${i} is ${size.value} bytes; the limit is ${limits.functionBodyBytes} bytes`)
    }
    offset = size.next + size.value
    if (offset > end) throw new WasmFormatError(`code section at offset ${start} runs past its end`)
  }
}

/** Skips a constant expression (SPEC'd opcodes of Node 20's engine, extended-const included) through its `end`. */
function skipConstExpr(wasm: Uint8Array, offset: number): number {
  let at = offset
  for (let steps = 0; steps < 1024; steps++) {
    const op = wasm[at++]
    switch (op) {
      case 0x0b: return at // end
      case 0x41: at = skipLeb(wasm, at, 5); break // i32.const
      case 0x42: at = skipLeb(wasm, at, 10); break // i64.const
      case 0x43: at += 4; break // f32.const
      case 0x44: at += 8; break // f64.const
      case 0x23: at = readU32(wasm, at).next; break // global.get
      case 0xd0: at = skipS33(wasm, at); break // ref.null heaptype
      case 0xd2: at = readU32(wasm, at).next; break // ref.func
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break // extended-const arithmetic
      case 0xfd: { // v128.const
        const sub = readU32(wasm, at)
        if (sub.value !== 12) throw new WasmFormatError(`unsupported constant expression opcode 0xfd ${sub.value} at offset ${at - 1}`)
        at = sub.next + 16
        break
      }
      default:
        throw new WasmFormatError(`unsupported constant expression opcode ${op ?? 'missing'} at offset ${at - 1}`)
    }
  }
  throw new WasmFormatError(`constant expression at offset ${offset} is too long`)
}

/** Skips a (signed or unsigned) LEB128 of at most `maxBytes` bytes. */
function skipLeb(wasm: Uint8Array, offset: number, maxBytes: number): number {
  for (let i = 0; i < maxBytes; i++) {
    const byte = wasm[offset + i]
    if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${offset + i}`)
    if ((byte & 0x80) === 0) return offset + i + 1
  }
  throw new WasmFormatError(`integer too long at offset ${offset}`)
}

function skipName(wasm: Uint8Array, offset: number): number {
  const length = readU32(wasm, offset)
  const next = length.next + length.value
  if (next > wasm.length) throw new WasmFormatError(`name at offset ${offset} runs past the end of the module`)
  return next
}

function skipRefType(wasm: Uint8Array, offset: number): number {
  const byte = wasm[offset]
  if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${offset}`)
  return byte === 0x63 || byte === 0x64 ? skipS33(wasm, offset + 1) : offset + 1
}

const skipValueType = skipRefType
