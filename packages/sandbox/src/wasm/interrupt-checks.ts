/**
 * SPEC §11 "Sharing a thread, fairly": interruption checks injected when a
 * module is prepared, so a call can be stopped at its deadline without
 * terminating the worker thread it shares with other agents (wasmtime's
 * fuel/epoch interruption, done as a pass over the code section).
 *
 * What the pass adds:
 * - an import `igor_internal.interrupt_check: [] → []` (the worker's poll of
 *   the node's interrupt flag: it throws when the call must stop);
 * - a mutable i32 global, the fuel, refilled to `FUEL_REFILL` after each poll;
 * - a function `$charge(units) → LOOP_QUANTUM` that takes `units` from the
 *   fuel and polls when it runs out;
 * - at every function entry: fuel -= the body's weight (inline; `$charge`
 *   only when it runs out), and in functions with loops a local counter set
 *   to LOOP_QUANTUM (charged to the fuel up front);
 * - at every loop header: local -= the loop's weight, and when the local runs
 *   out the loop is left for a slow path outside it (`$charge`, then back in);
 * - before every bulk memory or table instruction: fuel -= its length
 *   operand (64 bytes or 4 entries a unit), as one instruction can fill
 *   64 MiB.
 *
 * Hostcalls poll too (the worker wraps every import), so a loop around a
 * costly hostcall is reached as well.
 *
 * A weight is the size of the code it stands for (`BYTES_PER_UNIT` bytes a
 * unit), so the time between polls is bounded by code executed, not by
 * iterations. Nothing can run forever without passing a check: every cycle
 * of control goes through a loop header or a function entry. When the poll
 * throws, the fuel is left negative, so every later check polls again: an
 * agent that catches the exception (`catch_all`) cannot get past its next
 * loop header or call.
 *
 * Adding an imported function shifts the indices of defined functions by
 * one: calls, `return_call`, `ref.func` (code, globals, element segments),
 * exports, the start function and the name section are remapped. Types,
 * globals and functions the pass adds are appended, so no other index moves.
 */
import { ModuleError } from '../errors.js'
import { ByteWriter } from './byte-writer.js'
import { OP, skipImmediates, skipValueType } from './instructions.js'
import { WasmFormatError, readU32 } from './leb128.js'

export const INTERRUPT_MODULE = 'igor_internal'
export const INTERRUPT_IMPORT = 'interrupt_check'

/** Fuel units between two polls of the interrupt flag (a few milliseconds of compute). */
export const FUEL_REFILL = 4_000_000
/** Units a function with loops takes from the fuel at entry, then spends locally at its loop headers. */
export const LOOP_QUANTUM = 4096
/** Bytes of code per unit of weight. */
export const BYTES_PER_UNIT = 8
/** V8's limit on one function body; an instrumented body over it is refused here, not by the engine. */
export const MAX_INSTRUMENTED_BODY_BYTES = 7_654_321

const SECTION = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const
/** Order of the known sections in a module. */
const RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 }
const I32 = 0x7f
const FUNC_TYPE = 0x60
const IMPORT_FUNC = 0

interface Section { readonly id: number, readonly start: number, readonly end: number }

interface Layout {
  sections: Section[]
  /** Parameter count of each type (function types only). */
  typeParams: number[]
  importedFunctions: number
  importedGlobals: number
  /** Type index of each defined function. */
  functionTypes: number[]
  definedGlobals: number
}

/**
 * Returns the instrumented module. Refuses (`WASM_INVALID`) a body with an
 * instruction it cannot walk, and (`MODULE_LIMIT`) a module the checks would
 * grow past 4 times its size (+ 4 MiB) or a body past the engine's limit; structural
 * damage is `WasmFormatError`.
 */
export function addInterruptChecks(wasm: Uint8Array): Uint8Array<ArrayBuffer> {
  const layout = readLayout(wasm)
  const nTypes = layout.typeParams.length
  const voidType = nTypes
  const chargeType = nTypes + 1
  const importIndex = layout.importedFunctions
  const chargeIndex = layout.importedFunctions + 1 + layout.functionTypes.length
  const fuelGlobal = layout.importedGlobals + layout.definedGlobals
  const remap = (index: number): number => (index < importIndex ? index : index + 1)
  const ctx: Rewrite = { wasm, layout, remap, chargeIndex, fuelGlobal, maxBytes: instrumentedLimit(wasm.byteLength), code: new ByteWriter(64 * 1024), head: new ByteWriter(1024) }

  const out = new ByteWriter(wasm.byteLength + (wasm.byteLength >> 3) + 256)
  out.bytes(wasm.subarray(0, 8))
  const needed = new Set<number>([SECTION.type, SECTION.import, SECTION.function, SECTION.global, SECTION.code])
  const emitMissing = (beforeRank: number): void => {
    for (const id of [...needed].sort((a, b) => (RANK[a] as number) - (RANK[b] as number))) {
      if ((RANK[id] as number) >= beforeRank) break
      needed.delete(id)
      writeSection(out, id, (w) => writeNew(w, id))
    }
  }
  const writeNew = (w: ByteWriter, id: number): void => {
    switch (id) {
      case SECTION.type: w.u32(2); writeTypes(w); break
      case SECTION.import: w.u32(1); writeImport(w, voidType); break
      case SECTION.function: w.u32(1); w.u32(chargeType); break
      case SECTION.global: w.u32(1); writeFuel(w); break
      case SECTION.code: w.u32(1); writeCharge(w, importIndex, fuelGlobal); break
    }
  }

  for (const section of layout.sections) {
    const { id, start, end } = section
    if (id !== SECTION.custom) emitMissing(RANK[id] ?? 99)
    needed.delete(id)
    const body = readU32(wasm, start + 1).next
    switch (id) {
      case SECTION.type:
        writeSection(out, id, (w) => appendToVector(w, wasm, body, end, 2, () => writeTypes(w)))
        break
      case SECTION.import:
        writeSection(out, id, (w) => appendToVector(w, wasm, body, end, 1, () => writeImport(w, voidType)))
        break
      case SECTION.function:
        writeSection(out, id, (w) => appendToVector(w, wasm, body, end, 1, () => w.u32(chargeType)))
        break
      case SECTION.global:
        writeSection(out, id, (w) => rewriteGlobals(w, ctx, body, end))
        break
      case SECTION.export:
        writeSection(out, id, (w) => rewriteExports(w, wasm, body, end, remap))
        break
      case SECTION.start:
        writeSection(out, id, (w) => w.u32(remap(readU32(wasm, body).value)))
        break
      case SECTION.element:
        writeSection(out, id, (w) => rewriteElements(w, ctx, body, end))
        break
      case SECTION.code:
        writeSection(out, id, (w) => rewriteCode(w, ctx, body, end))
        break
      case SECTION.custom:
        writeCustom(out, wasm, body, end, remap)
        break
      default:
        out.bytes(wasm.subarray(start, end))
    }
  }
  emitMissing(Number.POSITIVE_INFINITY)
  if (out.length > ctx.maxBytes) tooBig(out.length, ctx.maxBytes)
  return out.toBytes()
}

interface Rewrite {
  readonly wasm: Uint8Array
  readonly layout: Layout
  readonly remap: (index: number) => number
  readonly chargeIndex: number
  readonly fuelGlobal: number
  readonly maxBytes: number
  /** Scratch writers reused for every body: its code, and its locals and entry check. */
  readonly code: ByteWriter
  readonly head: ByteWriter
}

/** The checks may grow a module to 4 times its size (plus 4 MiB: small modules full of tiny loops); a bound on what preparing can allocate. */
export function instrumentedLimit(inputBytes: number): number {
  return 4 * inputBytes + 4 * 1024 * 1024
}

function tooBig(size: number, limit: number): never {
  throw new ModuleError('MODULE_LIMIT', `module would be ${size} bytes with its interruption checks; the limit is ${limit} bytes (4 times its size + 4 MiB)`)
}

function writeSection(out: ByteWriter, id: number, write: (w: ByteWriter) => void): void {
  out.byte(id)
  out.sized(write)
}

/** A vector section with `extra` entries written by `append` after the existing ones. */
function appendToVector(w: ByteWriter, wasm: Uint8Array, body: number, end: number, extra: number, append: () => void): void {
  const count = readU32(wasm, body)
  w.u32(count.value + extra)
  w.bytes(wasm.subarray(count.next, end))
  append()
}

function writeTypes(w: ByteWriter): void {
  w.bytes([FUNC_TYPE, 0, 0]) // [] → [] (the import)
  w.bytes([FUNC_TYPE, 1, I32, 1, I32]) // [i32] → [i32] ($charge)
}

function writeName(w: ByteWriter, name: string): void {
  const bytes = new TextEncoder().encode(name)
  w.u32(bytes.length)
  w.bytes(bytes)
}

function writeImport(w: ByteWriter, type: number): void {
  writeName(w, INTERRUPT_MODULE)
  writeName(w, INTERRUPT_IMPORT)
  w.byte(IMPORT_FUNC)
  w.u32(type)
}

function writeFuel(w: ByteWriter): void {
  w.bytes([I32, 1, 0x41]) // mutable i32 = i32.const FUEL_REFILL
  w.paddedI32(FUEL_REFILL)
  w.byte(OP.end)
}

/**
 * `$charge(units) → LOOP_QUANTUM`: fuel -= units; when it runs out, poll and
 * refill. The fuel is set to -1 before the poll, so a poll that throws leaves
 * it just below zero (every later check polls again, and charges cannot
 * accumulate into a wrap-around).
 */
function writeCharge(w: ByteWriter, importIndex: number, fuel: number): void {
  w.sized((b) => {
    b.u32(0) // no locals
    b.byte(0x23); b.u32(fuel); b.byte(0x20); b.u32(0); b.byte(0x6b); b.byte(0x24); b.u32(fuel) // fuel -= units
    b.byte(0x23); b.u32(fuel); b.bytes([0x41, 0, 0x48, OP.if, 0x40]) // if fuel < 0
    b.bytes([0x41, 0x7f, 0x24]); b.u32(fuel) // fuel = -1
    b.byte(OP.call); b.u32(importIndex)
    b.byte(0x41); b.paddedI32(FUEL_REFILL); b.byte(0x24); b.u32(fuel)
    b.byte(OP.end)
    b.byte(0x41); b.paddedI32(LOOP_QUANTUM)
    b.byte(OP.end)
  })
}

function readLayout(wasm: Uint8Array): Layout {
  const layout: Layout = { sections: [], typeParams: [], importedFunctions: 0, importedGlobals: 0, functionTypes: [], definedGlobals: 0 }
  let offset = 8
  while (offset < wasm.length) {
    const id = wasm[offset] as number
    const size = readU32(wasm, offset + 1)
    const end = size.next + size.value
    if (end > wasm.length) throw new WasmFormatError(`section ${id} at offset ${offset} runs past the end of the module`)
    layout.sections.push({ id, start: offset, end })
    const body = size.next
    if (id === SECTION.type) layout.typeParams = readTypes(wasm, body)
    else if (id === SECTION.import) readImports(wasm, body, layout)
    else if (id === SECTION.function) {
      const count = readU32(wasm, body)
      let at = count.next
      for (let i = 0; i < count.value; i++) {
        const type = readU32(wasm, at)
        layout.functionTypes.push(type.value)
        at = type.next
      }
    } else if (id === SECTION.global) layout.definedGlobals = readU32(wasm, body).value
    offset = end
  }
  return layout
}

function readTypes(wasm: Uint8Array, body: number): number[] {
  const count = readU32(wasm, body)
  const params: number[] = []
  let at = count.next
  for (let i = 0; i < count.value; i++) {
    if (wasm[at] !== FUNC_TYPE) throw new ModuleError('WASM_INVALID', `type ${i} is not a function type (form 0x${(wasm[at] ?? 0).toString(16)}); only function types are supported`)
    at += 1
    for (let vec = 0; vec < 2; vec++) {
      const n = readU32(wasm, at)
      if (vec === 0) params.push(n.value)
      at = n.next
      for (let j = 0; j < n.value; j++) at = skipValueType(wasm, at)
    }
  }
  return params
}

function readImports(wasm: Uint8Array, body: number, layout: Layout): void {
  const count = readU32(wasm, body)
  let at = count.next
  for (let i = 0; i < count.value; i++) {
    at = skipName(wasm, skipName(wasm, at))
    const kind = wasm[at++]
    switch (kind) {
      case 0: layout.importedFunctions += 1; at = readU32(wasm, at).next; break
      case 1: at = skipLimits(wasm, skipValueType(wasm, at)); break
      case 2: at = skipLimits(wasm, at); break
      case 3: layout.importedGlobals += 1; at = skipValueType(wasm, at) + 1; break
      case 4: at = readU32(wasm, at + 1).next; break
      default: throw new WasmFormatError(`unknown import kind ${kind ?? 'missing'} at offset ${at - 1}`)
    }
  }
}

function skipName(wasm: Uint8Array, at: number): number {
  const length = readU32(wasm, at)
  return length.next + length.value
}

function skipLimits(wasm: Uint8Array, at: number): number {
  const flags = wasm[at] ?? 0
  let next = readU32(wasm, at + 1).next
  if ((flags & 1) !== 0) next = readU32(wasm, next).next
  return next
}

/** Copies a constant expression through its `end`, remapping `ref.func`. */
function copyConstExpr(w: ByteWriter, wasm: Uint8Array, at: number, remap: (index: number) => number): number {
  for (;;) {
    const op = wasm[at]
    if (op === undefined) throw new WasmFormatError(`unexpected end of module at offset ${at}`)
    if (op === OP.refFunc) {
      const index = readU32(wasm, at + 1)
      w.byte(op)
      w.u32(remap(index.value))
      at = index.next
      continue
    }
    const next = skipImmediates(wasm, op, at + 1)
    w.bytes(wasm.subarray(at, next))
    at = next
    if (op === OP.end) return at
  }
}

function rewriteGlobals(w: ByteWriter, ctx: Rewrite, body: number, end: number): void {
  const { wasm, remap } = ctx
  const count = readU32(wasm, body)
  w.u32(count.value + 1)
  let at = count.next
  for (let i = 0; i < count.value; i++) {
    const typeEnd = skipValueType(wasm, at) + 1 // value type, mutability
    w.bytes(wasm.subarray(at, typeEnd))
    at = copyConstExpr(w, wasm, typeEnd, remap)
  }
  if (at !== end) throw new WasmFormatError(`global section has ${end - at} unexpected bytes`)
  writeFuel(w)
}

function rewriteExports(w: ByteWriter, wasm: Uint8Array, body: number, end: number, remap: (index: number) => number): void {
  const count = readU32(wasm, body)
  w.u32(count.value)
  let at = count.next
  for (let i = 0; i < count.value; i++) {
    const nameEnd = skipName(wasm, at)
    w.bytes(wasm.subarray(at, nameEnd))
    const kind = wasm[nameEnd] as number
    const index = readU32(wasm, nameEnd + 1)
    w.byte(kind)
    w.u32(kind === IMPORT_FUNC ? remap(index.value) : index.value)
    at = index.next
  }
  if (at !== end) throw new WasmFormatError(`export section has ${end - at} unexpected bytes`)
}

function rewriteElements(w: ByteWriter, ctx: Rewrite, body: number, end: number): void {
  const { wasm, remap } = ctx
  const count = readU32(wasm, body)
  w.u32(count.value)
  let at = count.next
  for (let i = 0; i < count.value; i++) {
    const flags = readU32(wasm, at)
    const f = flags.value
    if (f > 7) throw new WasmFormatError(`unknown element segment kind ${f}`)
    w.u32(f)
    at = flags.next
    if ((f & 0x01) === 0) {
      if ((f & 0x02) !== 0) {
        const table = readU32(wasm, at)
        w.u32(table.value)
        at = table.next
      }
      at = copyConstExpr(w, wasm, at, remap) // offset
    }
    const usesExprs = (f & 0x04) !== 0
    if ((f & 0x03) !== 0) {
      const typeEnd = usesExprs ? skipValueType(wasm, at) : at + 1 // reftype or elemkind
      w.bytes(wasm.subarray(at, typeEnd))
      at = typeEnd
    }
    const n = readU32(wasm, at)
    w.u32(n.value)
    at = n.next
    for (let j = 0; j < n.value; j++) {
      if (usesExprs) {
        at = copyConstExpr(w, wasm, at, remap)
      } else {
        const index = readU32(wasm, at)
        w.u32(remap(index.value))
        at = index.next
      }
    }
  }
  if (at !== end) throw new WasmFormatError(`element section has ${end - at} unexpected bytes`)
}

function rewriteCode(w: ByteWriter, ctx: Rewrite, body: number, end: number): void {
  const { wasm, layout } = ctx
  const count = readU32(wasm, body)
  if (count.value !== layout.functionTypes.length) throw new WasmFormatError(`code section has ${count.value} bodies for ${layout.functionTypes.length} functions`)
  w.u32(count.value + 1)
  let at = count.next
  for (let i = 0; i < count.value; i++) {
    const size = readU32(wasm, at)
    const bodyEnd = size.next + size.value
    if (bodyEnd > end) throw new WasmFormatError(`code section runs past its end`)
    const params = layout.typeParams[layout.functionTypes[i] as number]
    if (params === undefined) throw new WasmFormatError(`function ${i} has an unknown type`)
    const start = w.length
    instrumentBody(w, ctx, i, params, size.next, bodyEnd)
    if (w.length - start > MAX_INSTRUMENTED_BODY_BYTES) {
      throw new ModuleError('MODULE_LIMIT', `function body ${i} would be ${w.length - start} bytes with its interruption checks; the limit is ${MAX_INSTRUMENTED_BODY_BYTES} bytes`)
    }
    if (w.length > ctx.maxBytes) tooBig(w.length, ctx.maxBytes)
    at = bodyEnd
  }
  if (at !== end) throw new WasmFormatError(`code section has ${end - at} unexpected bytes`)
  writeCharge(w, ctx.layout.importedFunctions, ctx.fuelGlobal)
}

/**
 * An open block of the original code. `wrapped`: a loop given the three
 * frames of its out-of-line slow path, which every branch from inside it to
 * a label outside it must count.
 */
interface Open { readonly loop: boolean, readonly wrapped: boolean, readonly at: number, readonly patchAt: number }

function weight(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / BYTES_PER_UNIT))
}

/** Frames the pass added between the innermost open block and the target of label `depth`. */
function addedFrames(open: readonly Open[], depth: number): number {
  let added = 0
  for (let i = open.length - 1; i >= open.length - depth && i >= 0; i--) if ((open[i] as Open).wrapped) added += WRAPPER_FRAMES
  return added
}

/** The slow path of a wrapped loop lives outside it: a call inside a loop would keep the engine from optimising it. */
const WRAPPER_FRAMES = 3

/** Whether a loop's block type takes parameters (such a loop cannot be re-entered from its wrapper; its slow path stays inline). */
function loopTakesParams(wasm: Uint8Array, at: number, end: number, layout: Layout): boolean {
  const byte = wasm[at] as number
  // 0x40 (empty) and value types are single bytes in 0x40–0x7f; a type index (s33 ≥ 0) is anything else.
  if (byte >= 0x40 && byte < 0x80) return false
  const index = readU32(wasm, at)
  if (index.next > end) throw new WasmFormatError('block type runs past the body')
  return (layout.typeParams[index.value] ?? 0) > 0
}

/** One function body: its locals (plus the loop counter when it has loops), the entry check, the code with checks at loop headers. */
function instrumentBody(w: ByteWriter, ctx: Rewrite, index: number, params: number, start: number, end: number): void {
  const { wasm, remap, chargeIndex, fuelGlobal, layout } = ctx
  const groups = readU32(wasm, start)
  let at = groups.next
  let locals = params
  for (let g = 0; g < groups.value; g++) {
    const n = readU32(wasm, at)
    locals += n.value
    at = skipValueType(wasm, n.next)
  }
  const localsEnd = at
  const counter = locals // the loop counter, appended after every local
  const scratch = locals + 1 // the length of a bulk instruction
  let bulk = false
  const code = ctx.code
  code.reset()
  const open: Open[] = []
  let loops = 0
  let wrappedOpen = 0
  // Instructions are copied in runs: only what changes is written piece by piece.
  let run = at
  const flush = (to: number): void => {
    if (to > run) code.bytes(wasm.subarray(run, to))
    run = to
  }
  /** A label immediate at `immediate`: rewritten (with the whole instruction up to it) only when frames were added in between. */
  const relabel = (opAt: number, immediate: number, depth: number): void => {
    const added = wrappedOpen === 0 ? 0 : addedFrames(open, depth)
    if (added === 0) return
    flush(opAt)
    code.bytes(wasm.subarray(opAt, immediate))
    code.u32(depth + added)
    run = readU32(wasm, immediate).next
  }
  for (;;) {
    if (at >= end) throw new WasmFormatError(`function body ${index} ends without its final end`)
    const opAt = at
    const op = wasm[at] as number
    const next = skipImmediates(wasm, op, at + 1)
    if (next > end) throw new WasmFormatError(`function body ${index} runs past its end`)
    switch (op) {
      case OP.call: case OP.returnCall: case OP.refFunc: {
        const target = readU32(wasm, at + 1).value
        if (target >= ctx.layout.importedFunctions) {
          flush(opAt)
          code.byte(op)
          code.u32(remap(target))
          run = next
        }
        break
      }
      case OP.br: case OP.brIf: case OP.rethrow:
        relabel(opAt, at + 1, readU32(wasm, at + 1).value)
        break
      case OP.brTable: {
        if (wrappedOpen === 0) break
        const count = readU32(wasm, at + 1)
        flush(opAt)
        code.byte(op)
        code.u32(count.value)
        let p = count.next
        for (let i = 0; i <= count.value; i++) {
          const depth = readU32(wasm, p)
          code.u32(depth.value + addedFrames(open, depth.value))
          p = depth.next
        }
        run = next
        break
      }
      case OP.loop: {
        loops += 1
        const wrapped = !loopTakesParams(wasm, at + 1, end, layout)
        flush(opAt)
        if (wrapped) {
          // block bt ($done) · loop ($retry) · block ($slow) · the loop itself
          code.byte(OP.block); code.bytes(wasm.subarray(at + 1, next))
          code.bytes(WRAPPER_OPEN)
          wrappedOpen += 1
        }
        code.bytes(wasm.subarray(at, next))
        run = next
        // counter -= weight; then when it is below 0: leave for the slow path ($slow), or call it in place
        code.byte(0x20); code.u32(counter)
        code.byte(0x41)
        const patchAt = code.paddedI32(1)
        code.byte(0x6b); code.byte(0x22); code.u32(counter)
        code.byte(0x41); code.byte(0); code.byte(0x48)
        if (wrapped) {
          code.byte(OP.brIf); code.byte(1)
        } else {
          code.byte(OP.if); code.byte(0x40); code.byte(0x41); code.paddedI32(LOOP_QUANTUM)
          code.byte(OP.call); code.u32(chargeIndex)
          code.byte(0x21); code.u32(counter)
          code.byte(OP.end)
        }
        open.push({ loop: true, wrapped, at: opAt, patchAt })
        break
      }
      case OP.block: case OP.if: case OP.try:
        open.push({ loop: false, wrapped: false, at: opAt, patchAt: 0 })
        break
      case OP.delegate:
        open.pop() // the try it ends; its label counts from the block around it
        relabel(opAt, at + 1, readU32(wasm, at + 1).value)
        break
      case OP.end: {
        const closed = open.pop()
        flush(next)
        if (closed === undefined) {
          if (next !== end) throw new WasmFormatError(`function body ${index} has code after its final end`)
          writeBody(w, ctx.head, wasm, { start, localsEnd, groups: groups.value, loops: loops > 0, extraLocals: loops > 0 || bulk, bodyBytes: end - start, fuelGlobal, chargeIndex, counter }, code)
          return
        }
        if (closed.loop) code.patchPaddedI32(closed.patchAt, weight(next - closed.at))
        if (closed.wrapped) {
          wrappedOpen -= 1
          // The loop's results leave by $done; the slow path refills the counter and re-enters the loop by $retry.
          code.byte(OP.br); code.byte(2); code.byte(OP.end); code.byte(0x41); code.paddedI32(LOOP_QUANTUM)
          code.byte(OP.call); code.u32(chargeIndex)
          code.byte(0x21); code.u32(counter)
          code.bytes(WRAPPER_CLOSE)
        }
        break
      }
      case OP.misc: {
        // Bulk memory and table instructions cost time in proportion to their length operand (top of the
        // stack, an i32): charged to the fuel before they run, with a poll when it runs out.
        const shift = BULK_SHIFT[readU32(wasm, at + 1).value]
        if (shift !== undefined) {
          bulk = true
          flush(opAt)
          code.byte(0x22); code.u32(scratch)
          code.byte(0x23); code.u32(fuelGlobal); code.byte(0x20); code.u32(scratch); code.bytes([0x41, shift, 0x76, 0x6b, 0x24]); code.u32(fuelGlobal)
          code.byte(0x23); code.u32(fuelGlobal); code.bytes([0x41, 0, 0x48, OP.if, 0x40, 0x41, 0, OP.call]); code.u32(chargeIndex); code.bytes([0x1a, OP.end])
        }
        break
      }
    }
    at = next
  }
}

const WRAPPER_OPEN = new Uint8Array([OP.loop, 0x40, OP.block, 0x40])
const WRAPPER_CLOSE = new Uint8Array([OP.br, 0, OP.end, 0x00, OP.end])

/**
 * 0xfc instructions whose cost grows with their length operand, and the shift
 * from that length to fuel units: memory.init/copy/fill 64 bytes a unit,
 * table.init/copy/grow/fill 4 entries a unit.
 */
const BULK_SHIFT: Record<number, number> = { 8: 6, 10: 6, 11: 6, 12: 2, 14: 2, 15: 2, 17: 2 }

function writeBody(
  w: ByteWriter,
  b: ByteWriter,
  wasm: Uint8Array,
  body: { start: number, localsEnd: number, groups: number, loops: boolean, extraLocals: boolean, bodyBytes: number, fuelGlobal: number, chargeIndex: number, counter: number },
  code: ByteWriter
): void {
  const { fuelGlobal: fuel, chargeIndex } = body
  b.reset()
  {
    // Locals: the original groups, plus two i32 (the loop counter, a bulk length) when there are loops or bulk instructions.
    const firstGroup = readU32(wasm, body.start).next
    b.u32(body.groups + (body.extraLocals ? 1 : 0))
    b.bytes(wasm.subarray(firstGroup, body.localsEnd))
    if (body.extraLocals) b.bytes([2, I32])
    // Entry: fuel -= weight (+ the loop quantum); if fuel < 0, $charge(0) polls.
    const entryUnits = weight(body.bodyBytes) + (body.loops ? LOOP_QUANTUM : 0)
    b.byte(0x23); b.u32(fuel); b.byte(0x41); b.paddedI32(entryUnits); b.byte(0x6b); b.byte(0x24); b.u32(fuel)
    b.byte(0x23); b.u32(fuel); b.bytes([0x41, 0, 0x48, OP.if, 0x40, 0x41, 0, OP.call]); b.u32(chargeIndex); b.bytes([0x1a, OP.end])
    if (body.loops) {
      b.byte(0x41); b.paddedI32(LOOP_QUANTUM); b.byte(0x21); b.u32(body.counter)
    }
  }
  w.u32(b.length + code.length)
  w.bytes(b.view())
  w.bytes(code.view())
}

/** Custom sections are copied, the name section with its function indices remapped (dropped if malformed: names are optional). */
function writeCustom(out: ByteWriter, wasm: Uint8Array, body: number, end: number, remap: (index: number) => number): void {
  const nameLength = readU32(wasm, body)
  const nameEnd = nameLength.next + nameLength.value
  const name = new TextDecoder().decode(wasm.subarray(nameLength.next, nameEnd))
  if (name !== 'name') {
    writeSection(out, SECTION.custom, (w) => w.bytes(wasm.subarray(body, end)))
    return
  }
  let rewritten: ByteWriter
  try {
    rewritten = new ByteWriter(end - body + 16)
    rewritten.bytes(wasm.subarray(body, nameEnd))
    rewriteNames(rewritten, wasm, nameEnd, end, remap)
  } catch (error) {
    if (error instanceof WasmFormatError || error instanceof RangeError) return
    throw error
  }
  writeSection(out, SECTION.custom, (w) => w.bytes(rewritten.view()))
}

function rewriteNames(w: ByteWriter, wasm: Uint8Array, at: number, end: number, remap: (index: number) => number): void {
  while (at < end) {
    const id = wasm[at] as number
    const size = readU32(wasm, at + 1)
    const subEnd = size.next + size.value
    if (subEnd > end) throw new WasmFormatError('name subsection runs past its end')
    w.byte(id)
    if (id === 1 || id === 2 || id === 3) {
      // 1: function names (index → name); 2, 3: local and label names (function index → name map).
      w.sized((s) => {
        const count = readU32(wasm, size.next)
        s.u32(count.value)
        let p = count.next
        for (let i = 0; i < count.value; i++) {
          const index = readU32(wasm, p)
          s.u32(remap(index.value))
          p = index.next
          let entryEnd: number
          if (id === 1) {
            entryEnd = skipName(wasm, p)
          } else {
            const inner = readU32(wasm, p)
            entryEnd = inner.next
            for (let j = 0; j < inner.value; j++) entryEnd = skipName(wasm, readU32(wasm, entryEnd).next)
          }
          if (entryEnd > subEnd) throw new WasmFormatError('name map runs past its subsection')
          s.bytes(wasm.subarray(p, entryEnd))
          p = entryEnd
        }
        if (p !== subEnd) throw new WasmFormatError('name subsection has unexpected bytes')
      })
    } else {
      w.bytes(wasm.subarray(at + 1, subEnd))
    }
    at = subEnd
  }
}
