import { describe, expect, it } from 'vitest'
import { ModuleError } from '../errors.js'
import { WasmFormatError, encodeU32, readU32 } from './leb128.js'
import { capMemoryMaximum, capModuleMemory } from './memory-cap.js'
import { agentWat, text, wat } from '@igor/test-kit'

function refusal(run: () => unknown): ModuleError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleError)
    return error as ModuleError
  }
  throw new Error('expected a refusal')
}

/** (id, bytes) of every section, to compare modules section by section. */
function sections(bytes: Uint8Array): Array<[number, string]> {
  const out: Array<[number, string]> = []
  let offset = 8
  while (offset < bytes.length) {
    const id = bytes[offset] as number
    const size = readU32(bytes, offset + 1)
    const end = size.next + size.value
    out.push([id, Buffer.from(bytes.subarray(offset, end)).toString('hex')])
    offset = end
  }
  return out
}

describe('LEB128', () => {
  it.each([0, 1, 127, 128, 1024, 65536, 0xffff_ffff])('round-trips %i', (value) => {
    const bytes = new Uint8Array(encodeU32(value))
    expect(readU32(bytes, 0)).toEqual({ value, next: bytes.length })
  })

  it('refuses truncated and over-long encodings', () => {
    expect(() => readU32(new Uint8Array([0x80]), 0)).toThrow(WasmFormatError)
    expect(() => readU32(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 0)).toThrow(/too long/)
    expect(() => readU32(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]), 0)).toThrow(/too large/)
  })
})

describe('capMemoryMaximum', () => {
  it('gives a memory without a maximum the cap', async () => {
    const capped = capMemoryMaximum(await wat('(module (memory 1))'), 1024)
    expect(await text(capped)).toContain('(memory (;0;) 1 1024)')
  })

  it('keeps a smaller declared maximum, byte for byte', async () => {
    const original = await wat('(module (memory 1 10))')
    const capped = capMemoryMaximum(original, 1024)
    expect(capped).toEqual(original)
    expect(capped).not.toBe(original)
  })

  it('lowers a larger declared maximum to the cap', async () => {
    const capped = capMemoryMaximum(await wat('(module (memory 1 65536))'), 1024)
    expect(await text(capped)).toContain('(memory (;0;) 1 1024)')
    expect(capModuleMemory(capped, 1024).memory).toEqual({ initial: 1, maximum: 1024 })
  })

  it('refuses a maximum above the WebAssembly limit instead of legalising it', () => {
    const error = refusal(() => capMemoryMaximum(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 6, 1, 1, 1, 0xa0, 0x8d, 6]), 1024))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toBe('memory maximum 100000 pages exceeds the WebAssembly limit of 65536 pages')
  })

  it('refuses an initial size above the cap', async () => {
    const bytes = await wat('(module (memory 2000))')
    const limit = refusal(() => capMemoryMaximum(bytes, 1024))
    expect(limit.code).toBe('MEMORY_LIMIT')
    expect(limit.message).toBe('memory initial size 2000 pages (125 MiB) exceeds the limit of 1024 pages (64 MiB)')
  })

  it('copies every other section byte for byte', async () => {
    const source = agentWat({
      imports: '(import "igor" "clock_now" (func (result i64)))',
      extra: '(data (i32.const 0) "hello") (global (mut i32) (i32.const 7)) (table 2 funcref)'
    })
    const original = await wat(source)
    const withCustom = new Uint8Array([...original, 0, 6, 4, 0x6e, 0x6f, 0x74, 0x65, 0x21])
    const capped = capMemoryMaximum(withCustom, 16)
    const before = sections(withCustom)
    const after = sections(capped)
    expect(after.map(([id]) => id)).toEqual(before.map(([id]) => id))
    after.forEach(([id, hex], i) => {
      if (id !== 5) expect(hex).toBe(before[i]?.[1])
    })
    expect(await text(capped)).toContain('(memory (;0;) 1 16)')
  })

  it('returns an unchanged copy of a module without memory', async () => {
    const original = await wat('(module (func))')
    expect(capMemoryMaximum(original, 1024)).toEqual(original)
    expect(capModuleMemory(original, 1024).memory).toBeNull()
  })

  it('makes memory.grow past the cap fail inside the module', async () => {
    const capped = capMemoryMaximum(await wat(agentWat()), 4)
    const { instance: { exports } } = await WebAssembly.instantiate(capped)
    const grow = exports.grow as (pages: number) => number
    expect(grow(3)).toBe(1)
    expect(grow(1)).toBe(-1)
    expect((exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(4 * 65536)
  })

  it('refuses memory64', async () => {
    const bytes = await wat('(module (memory i64 1))', { memory64: true })
    expect(refusal(() => capMemoryMaximum(bytes, 1024)).message).toBe('uses a 64-bit memory (memory64), which is not supported')
  })

  it('refuses shared memory', async () => {
    const bytes = await wat('(module (memory 1 2 shared))', { threads: true })
    const error = refusal(() => capMemoryMaximum(bytes, 1024))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toBe('uses a shared memory, which is not supported')
  })

  it('refuses more than one memory', async () => {
    const bytes = await wat('(module (memory 1) (memory 2))', { multi_memory: true })
    expect(refusal(() => capMemoryMaximum(bytes, 1024)).message).toBe('defines 2 memories; an agent must have exactly one (multi-memory is not supported)')
  })

  it('refuses an imported memory, naming the import, after walking other import kinds', async () => {
    const bytes = await wat(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "igor" "t" (table 1 2 funcref))
      (import "igor" "g" (global i64))
      (import "env" "memory" (memory 1)))`)
    const error = refusal(() => capMemoryMaximum(bytes, 1024))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toBe('imports its memory (env.memory); an agent must define its own')
  })

  it.each([
    ['empty', new Uint8Array(0)],
    ['text', new TextEncoder().encode('(module)')],
    ['ELF', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])]
  ])('refuses %s bytes as not WebAssembly', (_label, bytes) => {
    const error = refusal(() => capMemoryMaximum(bytes, 1024))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toBe('not a WebAssembly module (bad magic)')
  })

  it('refuses a component (binary version 0x1000d)', () => {
    const error = refusal(() => capMemoryMaximum(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]), 1024))
    expect(error.message).toContain('unsupported WebAssembly binary version 0x0001000d')
  })

  it('reports a truncated section as a format error', async () => {
    const bytes = await wat(agentWat())
    expect(() => capMemoryMaximum(bytes.subarray(0, bytes.length - 3), 1024)).toThrow(WasmFormatError)
  })

  it('checks maxPages', async () => {
    const bytes = await wat('(module)')
    expect(() => capMemoryMaximum(bytes, -1)).toThrow(RangeError)
    expect(() => capMemoryMaximum(bytes, 65537)).toThrow(RangeError)
    expect(() => capMemoryMaximum(bytes, 1.5)).toThrow(RangeError)
  })
})
