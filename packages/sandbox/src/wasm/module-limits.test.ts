import { describe, expect, it } from 'vitest'
import { ModuleError } from '../errors.js'
import { EMPTY_MANIFEST } from '../manifest/manifest.js'
import { refusal } from '@igor/test-kit'
import { MODULE_LIMITS, checkModuleLimits } from './module-limits.js'
import type { ModuleLimits } from './module-limits.js'
import { prepareAgentModule } from './prepare.js'
import { NO_INTERRUPT, agentWat, text, wat } from '@igor/test-kit'

const PATH = 'agents/bomb.wasm'

function refused(run: () => unknown): ModuleError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleError)
    return error as ModuleError
  }
  throw new Error('expected a refusal')
}

const tiny = (over: Partial<ModuleLimits>): ModuleLimits => ({ ...MODULE_LIMITS, ...over })

describe('module limits (SPEC §11)', () => {
  it('exports the caps', () => {
    expect(MODULE_LIMITS).toMatchObject({ moduleBytes: 64 * 1024 * 1024, tables: 8, tableEntries: 100_000, functions: 100_000 })
  })

  it('refuses the issue\'s 10-million-entry table module (a few hundred bytes) at load, naming the limit', async () => {
    const bytes = await wat(agentWat({ extra: '(table 10000000 funcref)' }))
    expect(bytes.byteLength).toBeLessThan(300)
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('MODULE_LIMIT')
    expect(error.message).toBe(`${PATH}: table 0 has an initial size of 10000000 entries; the limit is 100000 entries`)
  })

  it('rewrites a missing or larger table maximum to the cap, so a table.grow bomb returns -1', async () => {
    const source = agentWat({ extra: `(table $t 1 funcref)
      (func (export "grow_table") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))` })
    const agent = await prepareAgentModule(await wat(source), { path: PATH, manifest: EMPTY_MANIFEST })
    const { exports } = await WebAssembly.instantiate(agent.module, NO_INTERRUPT)
    const grow = exports.grow_table as (n: number) => number
    expect(grow(10_000_000)).toBe(-1)
    expect(grow(99_999)).toBe(1)
    expect(grow(1)).toBe(-1)
    const capped = checkModuleLimits(await wat('(module (table 2 4000000000 funcref) (table 3 externref) (table 1 5 funcref))'))
    expect(await text(capped)).toMatch(/\(table \(;0;\) 2 100000 funcref\)\s*\(table \(;1;\) 3 100000 externref\)\s*\(table \(;2;\) 1 5 funcref\)/)
  })

  it('keeps a module within every cap byte for byte', async () => {
    const bytes = await wat(agentWat({ extra: '(table 4 10 funcref) (elem (i32.const 0) func 0 1) (data (i32.const 0) "x") (global i32 (i32.const 1))' }))
    expect(checkModuleLimits(bytes)).toBe(bytes)
  })

  it('refuses an imported table whose initial size is over the cap', async () => {
    const bytes = await wat('(module (import "env" "t" (table 200000 funcref)))')
    expect(refused(() => checkModuleLimits(bytes)).message).toBe('table 0 has an initial size of 200000 entries; the limit is 100000 entries')
  })

  it('refuses module bytes over the cap', async () => {
    const bytes = await wat(agentWat())
    const error = refused(() => checkModuleLimits(bytes, tiny({ moduleBytes: 100 })))
    expect(error.code).toBe('MODULE_LIMIT')
    expect(error.message).toBe(`module is ${bytes.byteLength} bytes; the limit is 100 bytes`)
  })

  it.each([
    ['types', { types: 2 }, '(type (func)) (type (func (param i32))) (type (func (param i64)))', 'module has 3 types; the limit is 2 types'],
    ['imports', { imports: 1 }, '(import "a" "b" (func)) (import "a" "c" (func))', 'module has 2 imports; the limit is 1 imports'],
    ['functions (imported + defined)', { functions: 2 }, '(import "a" "b" (func)) (func) (func)', 'module has 3 functions; the limit is 2 functions'],
    ['tables', { tables: 1 }, '(table 1 funcref) (table 1 funcref)', 'module has 2 tables; the limit is 1 tables'],
    ['globals', { globals: 1 }, '(import "a" "g" (global i32)) (global i32 (i32.const 0))', 'module has 2 globals; the limit is 1 globals'],
    ['exports', { exports: 1 }, '(func (export "a")) (func (export "b"))', 'module has 2 exports; the limit is 1 exports'],
    ['element segments', { elementSegments: 1 }, '(table 4 funcref) (func $f) (elem (i32.const 0) $f) (elem (i32.const 1) $f)', 'module has 2 element segments; the limit is 1 element segments'],
    ['element entries', { elementEntries: 3 }, '(table 4 funcref) (func $f) (elem (i32.const 0) $f $f) (elem funcref (ref.func $f) (ref.null func))', 'module has 4 element entries; the limit is 3 element entries'],
    ['data segments', { dataSegments: 1 }, '(memory 1) (data (i32.const 0) "a") (data "b")', 'module has 2 data segments; the limit is 1 data segments'],
    ['function body bytes', { functionBodyBytes: 8 }, '(func (drop (i32.add (i32.const 1000000) (i32.const 1000000))))', 'function body 0 is 12 bytes; the limit is 8 bytes']
  ])('refuses too many %s, naming the limit', async (_label, limits, body, message) => {
    const bytes = await wat(`(module ${body})`)
    const error = refused(() => checkModuleLimits(bytes, tiny(limits)))
    expect(error.code).toBe('MODULE_LIMIT')
    expect(error.message).toBe(message)
  })

  it('refuses tags over the cap', async () => {
    const bytes = await wat('(module (tag) (tag))', { exceptions: true })
    expect(refused(() => checkModuleLimits(bytes, tiny({ tags: 1 }))).message).toBe('module has 2 tags; the limit is 1 tags')
  })

  it('walks every element segment form and constant expression', async () => {
    const bytes = await wat(`(module (table $t 10 10 funcref) (table $u 10 10 externref) (global $g i32 (i32.const 1)) (func $f)
      (elem (i32.const 0) $f)
      (elem func $f $f)
      (elem (table $t) (i32.const -1) func $f)
      (elem declare func $f)
      (elem (i32.const 2) funcref (ref.func $f))
      (elem funcref (ref.null func) (ref.func $f))
      (elem (table $u) (global.get $g) externref (ref.null extern))
      (elem declare funcref (ref.func $f)))`)
    expect(checkModuleLimits(bytes, tiny({ elementEntries: 10 }))).toBe(bytes)
    expect(refused(() => checkModuleLimits(bytes, tiny({ elementEntries: 9 }))).message).toBe('module has 10 element entries; the limit is 9 element entries')
  })

  it('leaves non-modules to the preamble check', async () => {
    const error = await refusal(prepareAgentModule(new TextEncoder().encode('#!/bin/sh\necho hi\n'), { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.message).toBe(`${PATH}: not a WebAssembly module (bad magic)`)
  })
})
