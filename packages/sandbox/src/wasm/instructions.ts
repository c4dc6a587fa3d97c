/**
 * The immediates of every instruction the interruption pass walks (SPEC §11
 * "Sharing a thread, fairly"): MVP, sign extension, saturating truncation,
 * bulk memory, reference types, multi-value block types, SIMD, legacy
 * exception handling, tail calls and atomics — what Node 20's engine accepts
 * without flags. Anything else (typed function references, GC, `try_table`)
 * is refused with its opcode: a body we cannot walk cannot be instrumented,
 * and an uninstrumented agent could not be interrupted without its thread.
 */
import { ModuleError } from '../errors.js'
import { WasmFormatError, readU32, skipS33 } from './leb128.js'

export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  try: 0x06,
  rethrow: 0x09,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  call: 0x10,
  returnCall: 0x12,
  delegate: 0x18,
  refFunc: 0xd2,
  misc: 0xfc
} as const

/** A (ref null ht) / (ref ht) value type: a heap type follows. */
function isTypedRef(byte: number | undefined): boolean {
  return byte === 0x63 || byte === 0x64
}

export function skipValueType(code: Uint8Array, at: number): number {
  const byte = code[at]
  if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${at}`)
  return isTypedRef(byte) ? skipS33(code, at + 1) : at + 1
}

/** `blocktype`: 0x40, a value type, or a type index (s33). */
export function skipBlockType(code: Uint8Array, at: number): number {
  const byte = code[at]
  if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${at}`)
  if (byte === 0x40) return at + 1
  return isTypedRef(byte) ? skipS33(code, at + 1) : skipS33(code, at)
}

/** A signed LEB128 of at most `maxBytes` bytes. */
export function skipSigned(code: Uint8Array, at: number, maxBytes: number): number {
  for (let i = 0; i < maxBytes; i++) {
    const byte = code[at + i]
    if (byte === undefined) throw new WasmFormatError(`unexpected end of module at offset ${at + i}`)
    if ((byte & 0x80) === 0) return at + i + 1
  }
  throw new WasmFormatError(`integer too long at offset ${at}`)
}

function u32(code: Uint8Array, at: number): number {
  return readU32(code, at).next
}

/** memarg: alignment (bit 6: a memory index follows), then the offset. */
function skipMemarg(code: Uint8Array, at: number): number {
  const align = readU32(code, at)
  let next = align.next
  if ((align.value & 0x40) !== 0) next = u32(code, next)
  return skipSigned(code, next, 10) // the offset: a u64 (memory64 is refused before this pass)
}

function unwalkable(what: string, at: number): never {
  throw new ModuleError('WASM_INVALID', `uses ${what} at offset ${at}, which the node cannot make interruptible (SPEC §11); it is not supported`)
}

/**
 * Offset just past the immediates of the instruction whose opcode byte is
 * `op`, read at `at - 1` (`at` is just past it). Throws for an opcode this
 * walker does not know.
 */
export function skipImmediates(code: Uint8Array, op: number, at: number): number {
  if ((op >= 0x45 && op <= 0xc4) || op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x19 || op === 0x1a || op === 0x1b || op === 0xd1) return at
  if (op >= 0x28 && op <= 0x3e) return skipMemarg(code, at)
  switch (op) {
    case 0x02: case 0x03: case 0x04: case 0x06: // block, loop, if, try
      return skipBlockType(code, at)
    case 0x07: case 0x08: case 0x09: // catch tag, throw tag, rethrow label
    case 0x0c: case 0x0d: // br, br_if
    case 0x10: case 0x12: // call, return_call
    case 0x18: // delegate label
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: // local.*, global.*
    case 0x25: case 0x26: // table.get, table.set
    case 0x3f: case 0x40: // memory.size, memory.grow (memory index)
    case 0xd2: // ref.func
      return u32(code, at)
    case 0x11: case 0x13: // call_indirect, return_call_indirect: type, table
      return u32(code, u32(code, at))
    case 0x0e: { // br_table
      const count = readU32(code, at)
      let next = count.next
      for (let i = 0; i <= count.value; i++) next = u32(code, next)
      return next
    }
    case 0x1c: { // select t*
      const count = readU32(code, at)
      let next = count.next
      for (let i = 0; i < count.value; i++) next = skipValueType(code, next)
      return next
    }
    case 0x41: return skipSigned(code, at, 5)
    case 0x42: return skipSigned(code, at, 10)
    case 0x43: return at + 4
    case 0x44: return at + 8
    case 0xd0: return skipS33(code, at) // ref.null heaptype
    case 0xfc: return skipMisc(code, at)
    case 0xfd: return skipSimd(code, at)
    case 0xfe: return skipAtomic(code, at)
    default:
      return unwalkable(`opcode 0x${op.toString(16).padStart(2, '0')}`, at - 1)
  }
}

/** 0xfc: saturating truncation (0–7), bulk memory and table instructions (8–17). */
function skipMisc(code: Uint8Array, at: number): number {
  const sub = readU32(code, at)
  const next = sub.next
  switch (sub.value) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: return next
    case 8: return u32(code, u32(code, next)) // memory.init data, memory
    case 9: return u32(code, next) // data.drop
    case 10: return u32(code, u32(code, next)) // memory.copy dst, src
    case 11: return u32(code, next) // memory.fill
    case 12: return u32(code, u32(code, next)) // table.init elem, table
    case 13: return u32(code, next) // elem.drop
    case 14: return u32(code, u32(code, next)) // table.copy
    case 15: case 16: case 17: return u32(code, next) // table.grow, table.size, table.fill
    default: return unwalkable(`instruction 0xfc ${sub.value}`, at - 1)
  }
}

/** 0xfd: fixed-width SIMD (relaxed SIMD has no immediates beyond the opcode). */
function skipSimd(code: Uint8Array, at: number): number {
  const sub = readU32(code, at)
  const op = sub.value
  const next = sub.next
  if (op <= 11) return skipMemarg(code, next) // loads, v128.store
  if (op === 12 || op === 13) return next + 16 // v128.const, i8x16.shuffle
  if (op >= 21 && op <= 34) return next + 1 // extract/replace lane
  if (op >= 84 && op <= 91) return skipMemarg(code, next) + 1 // load/store lane
  if (op === 92 || op === 93) return skipMemarg(code, next) // load32_zero, load64_zero
  if (op > 0x1ff) return unwalkable(`instruction 0xfd ${op}`, at - 1)
  return next
}

/** 0xfe: atomics (valid on an unshared memory too). */
function skipAtomic(code: Uint8Array, at: number): number {
  const sub = readU32(code, at)
  if (sub.value === 3) return sub.next + 1 // atomic.fence 0x00
  if (sub.value > 0x4e) return unwalkable(`instruction 0xfe ${sub.value}`, at - 1)
  return skipMemarg(code, sub.next)
}
