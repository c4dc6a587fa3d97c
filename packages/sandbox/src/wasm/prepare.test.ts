import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { refusal } from '@igor/test-kit'
import { EMPTY_MANIFEST, parseManifest } from '../manifest/manifest.js'
import type { Manifest } from '../manifest/manifest.js'
import { REQUIRED_EXPORTS } from './abi.js'
import { memoryCapPages, prepareAgentModule } from './prepare.js'
import { NO_INTERRUPT, agentWat, wat } from '@igor/test-kit'

const PATH = 'agents/x.wasm'

function manifest(json: string): Manifest {
  return parseManifest(json, { source: 'agents/x.manifest.json' })
}

const ALL = manifest('{"capabilities": {"clock": {"version": 1}, "rand": {"version": 1}, "log": {"version": 1}, "wallet": {"version": 1}}}')

describe('memoryCapPages', () => {
  it('is min(node limit, manifest limit) in whole 64 KiB pages', () => {
    expect(memoryCapPages(64 * 1024 * 1024, null)).toBe(1024)
    expect(memoryCapPages(64 * 1024 * 1024, 1024 * 1024)).toBe(16)
    expect(memoryCapPages(64 * 1024 * 1024, 65536 + 65535)).toBe(1)
    expect(memoryCapPages(1024 * 1024, 64 * 1024 * 1024)).toBe(16)
    expect(memoryCapPages(2 ** 40, null)).toBe(65536)
  })
})

describe('prepareAgentModule', () => {
  it('prepares a minimal agent: hash of the original bytes, default cap, no imports', async () => {
    const bytes = await wat(agentWat())
    const agent = await prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST })
    expect(agent.module).toBeInstanceOf(WebAssembly.Module)
    expect(Buffer.from(agent.wasmHash).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect(agent.wasmHash).toBeInstanceOf(Uint8Array)
    expect(agent.capabilities.size).toBe(0)
    expect(agent.usesWasi).toBe(false)
    expect(agent.entry).toBeNull()
    expect(agent.memoryMaxPages).toBe(1024)
  })

  it('caps memory at 64 MiB: memory.grow past it returns -1 inside the agent', async () => {
    const agent = await prepareAgentModule(await wat(agentWat()), { path: PATH, manifest: EMPTY_MANIFEST })
    const instance = await WebAssembly.instantiate(agent.module, NO_INTERRUPT)
    const grow = instance.exports.grow as (pages: number) => number
    expect(grow(1023)).toBe(1)
    expect(grow(1)).toBe(-1)
    expect((instance.exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(64 * 1024 * 1024)
  })

  it('applies a lower manifest limit and a lower node limit', async () => {
    const bytes = await wat(agentWat({ memory: '(memory (export "memory") 1 100)' }))
    const small = manifest('{"resource_limits": {"max_memory_bytes": 1048576}}')
    expect((await prepareAgentModule(bytes, { path: PATH, manifest: small })).memoryMaxPages).toBe(16)
    expect((await prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST, nodeMemoryLimitBytes: 2 * 65536 })).memoryMaxPages).toBe(2)
    expect((await prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST })).memoryMaxPages).toBe(100)
  })

  it('refuses an initial memory above the cap with MEMORY_LIMIT naming the file', async () => {
    const bytes = await wat(agentWat({ memory: '(memory (export "memory") 2000)' }))
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('MEMORY_LIMIT')
    expect(error.message).toBe(`${PATH}: memory initial size 2000 pages (125 MiB) exceeds the limit of 1024 pages (64 MiB)`)
  })

  it('records imported capabilities, WASI use and the entry point', async () => {
    const bytes = await wat(agentWat({
      imports: `(import "igor" "clock_now" (func (result i64)))
        (import "igor" "log_emit" (func (param i32 i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))`,
      extra: '(func (export "_start"))'
    }))
    const agent = await prepareAgentModule(bytes, { path: PATH, manifest: ALL })
    expect([...agent.capabilities].sort()).toEqual(['clock', 'log'])
    expect(agent.usesWasi).toBe(true)
    expect(agent.entry).toBe('_start')
    const reactor = await wat(agentWat({ extra: '(func (export "_initialize"))' }))
    expect((await prepareAgentModule(reactor, { path: PATH, manifest: EMPTY_MANIFEST })).entry).toBe('_initialize')
  })

  it.each(REQUIRED_EXPORTS)('refuses a module without export "%s"', async (name) => {
    const bytes = await wat(agentWat({ omit: [name] }))
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('MISSING_EXPORT')
    expect(error.message).toBe(`${PATH}: missing export "${name}"`)
  })

  it('refuses a module with no memory at all as missing export "memory"', async () => {
    const bytes = await wat('(module (func (export "agent_init")))')
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.message).toBe(`${PATH}: missing export "memory"`)
  })

  it('refuses exports of the wrong kind', async () => {
    const memoryIsGlobal = await wat(agentWat({ memory: '(memory 1) (global (export "memory") i32 (i32.const 0))' }))
    const a = await refusal(prepareAgentModule(memoryIsGlobal, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(a.code).toBe('MISSING_EXPORT')
    expect(a.message).toBe(`${PATH}: export "memory" is a global, expected a memory`)
    const tickIsMemory = await wat(agentWat({ memory: '(memory (export "memory") (export "agent_tick") 1)', omit: ['agent_tick'] }))
    const b = await refusal(prepareAgentModule(tickIsMemory, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(b.message).toBe(`${PATH}: export "agent_tick" is a memory, expected a function`)
  })

  it('refuses both _start and _initialize', async () => {
    const bytes = await wat(agentWat({ extra: '(func (export "_start")) (func (export "_initialize"))' }))
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toContain('exports both "_start" and "_initialize"')
  })

  it('refuses an igor import whose capability the manifest does not declare', async () => {
    const bytes = await wat(agentWat({ imports: '(import "igor" "clock_now" (func (result i64)))' }))
    const declaresLog = manifest('{"capabilities": {"log": {"version": 1}}}')
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: declaresLog }))
    expect(error.code).toBe('UNDECLARED_CAPABILITY')
    expect(error.message).toBe(`${PATH} imports igor.clock_now but the manifest does not declare capability "clock" (manifest: agents/x.manifest.json)`)
    const none = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(none.message).toContain('(no manifest was found)')
  })

  it.each([
    ['(import "igor" "gps_read" (func (result i64)))', 'UNKNOWN_IMPORT', 'unknown import igor.gps_read (the igor module provides clock_now, rand_bytes, log_emit, wallet_balance, node_price, http_request, wallet_pay, request_move)'],
    ['(import "igor" "clock_now" (global i64))', 'UNKNOWN_IMPORT', 'import igor.clock_now is a global, expected a function'],
    ['(import "env" "abort" (func (param i32 i32 i32 i32)))', 'UNKNOWN_IMPORT', 'unknown import env.abort (agents may import only from "igor" and "wasi_snapshot_preview1")'],
    ['(import "wasi_snapshot_preview1" "sock_open" (func))', 'UNKNOWN_IMPORT', 'unknown import wasi_snapshot_preview1.sock_open (not a WASI preview1 function)'],
    ['(import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32)))', 'UNKNOWN_IMPORT', 'unknown import wasi_unstable.fd_write'],
    ['(import "wasi_snapshot_preview1" "fd_write" (table 1 funcref))', 'UNKNOWN_IMPORT', 'import wasi_snapshot_preview1.fd_write is a table, expected a function']
  ])('refuses %s', async (imports, code, message) => {
    const bytes = await wat(agentWat({ imports }))
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: ALL }))
    expect(error.code).toBe(code)
    expect(error.message).toContain(`${PATH}: ${message}`)
  })

  it('refuses an imported memory', async () => {
    const bytes = await wat(agentWat({ imports: '(import "env" "memory" (memory 1))', memory: '(export "memory" (memory 0))' }))
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toBe(`${PATH}: imports its memory (env.memory); an agent must define its own`)
  })

  it('refuses bytes that are not WebAssembly', async () => {
    const error = await refusal(prepareAgentModule(new TextEncoder().encode('#!/bin/sh\n'), { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toBe(`${PATH}: not a WebAssembly module (bad magic)`)
  })

  it('reports the engine\'s compile error for a damaged module', async () => {
    const bytes = await wat(agentWat())
    const truncated = bytes.subarray(0, bytes.length - 5)
    const error = await refusal(prepareAgentModule(truncated, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toMatch(new RegExp(`^${PATH}: WebAssembly\\.compile\\(\\): .+`))
  })

  it('reports the compile error of a well-framed but invalid module', async () => {
    // A function whose body returns nothing although its type promises an i32.
    const bytes = await wat(agentWat({ extra: '(func (export "bad") (result i32) nop)' }))
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toMatch(new RegExp(`^${PATH}: WebAssembly\\.compile\\(\\): .+`))
  })

  it('refuses memory64 with a clear message', async () => {
    const bytes = await wat('(module (memory (export "memory") i64 1))', { memory64: true })
    const error = await refusal(prepareAgentModule(bytes, { path: PATH, manifest: EMPTY_MANIFEST }))
    expect(error.code).toBe('WASM_INVALID')
    expect(error.message).toBe(`${PATH}: uses a 64-bit memory (memory64), which is not supported`)
  })
})
