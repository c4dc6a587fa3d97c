import { describe, expect, it } from 'vitest'
import { EMPTY_MANIFEST, parseManifest } from '../manifest/manifest.js'
import type { WorkerMessage, WorkerReply, WorkerRequest } from '../pool/messages.js'
import { prepareAgentModule } from '../wasm/prepare.js'
import { wat } from '@igor/test-kit'
import { AgentRuntime } from './agent-runtime.js'

const LOG = parseManifest('{"capabilities": {"log": {"version": 1}}}', { source: 'x.manifest.json' })

/** The ABI exports, with a state of 8 bytes at 1024 (a tick counter). */
const ABI = `
  (func (export "agent_init"))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048))`
const COUNTING_TICK = `(func (export "agent_tick") (result i32)
    (i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0))`

function module(body: string, { abi = ABI, tick = COUNTING_TICK } = {}): string {
  return `(module ${body} (memory (export "memory") 1) ${abi} ${tick})`
}

async function load(source: string, manifest = EMPTY_MANIFEST) {
  const prepared = await prepareAgentModule(await wat(source), { path: 'x.wasm', manifest })
  const messages: WorkerMessage[] = []
  const runtime = new AgentRuntime((message) => messages.push(message))
  let id = 0
  const send = (request: Record<string, unknown>): WorkerReply => {
    const before = messages.length
    runtime.handle({ deadlineMs: 1000, ...request, id: ++id } as unknown as WorkerRequest)
    const reply = messages.slice(before).find((m) => m.type === 'reply')
    if (reply === undefined) throw new Error('no reply')
    return reply
  }
  const setup = { agentId: 'x', module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry }
  return {
    messages,
    logs: () => messages.filter((m) => m.type === 'log').map((m) => m.type === 'log' ? `${m.stream}: ${m.line}` : ''),
    init: (state: Uint8Array | null = null) => send({ op: 'init', setup, budget: 1000n, state }),
    tick: () => send({ op: 'tick', budget: 1000n }),
    checkpoint: () => send({ op: 'checkpoint' })
  }
}

const WASI = (name: string, params: string, result = '(result i32)'): string =>
  `(import "wasi_snapshot_preview1" "${name}" (func $${name} (param ${params}) ${result}))`

describe('agents shaped like toolchain output load and run (SPEC §5)', () => {
  it('TinyGo: _start writes to stdout through fd_write, ticks write too', async () => {
    const agent = await load(module(`${WASI('fd_write', 'i32 i32 i32 i32')}
      (data (i32.const 64) "hello from tinygo\\n")
      (func (export "_start") (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 18))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))`))
    expect(agent.init()).toMatchObject({ ok: true })
    const reply = agent.tick() as { ok: boolean, more?: boolean }
    expect(reply).toMatchObject({ ok: true })
    expect(reply.more === true).toBe(false) // a tick with no more work sends no `more`
    expect(agent.logs()).toEqual(['stdout: hello from tinygo'])
  })

  it('Go wasip1: runtime start-up probes fds, prestats, args, environ, clocks, random, sleeps, then proc_exit(0)', async () => {
    const imports = [
      WASI('args_sizes_get', 'i32 i32'), WASI('args_get', 'i32 i32'), WASI('environ_sizes_get', 'i32 i32'), WASI('environ_get', 'i32 i32'),
      WASI('clock_time_get', 'i32 i64 i32'), WASI('random_get', 'i32 i32'), WASI('fd_fdstat_get', 'i32 i32'),
      WASI('fd_fdstat_set_flags', 'i32 i32'), WASI('fd_prestat_get', 'i32 i32'), WASI('fd_prestat_dir_name', 'i32 i32 i32'),
      WASI('poll_oneoff', 'i32 i32 i32 i32'), WASI('sched_yield', '', '(result i32)'), WASI('fd_write', 'i32 i32 i32 i32'),
      WASI('fd_close', 'i32'), WASI('fd_read', 'i32 i32 i32 i32'), WASI('fd_seek', 'i32 i64 i32 i32'), WASI('fd_filestat_get', 'i32 i32'),
      WASI('path_open', 'i32 i32 i32 i32 i32 i64 i64 i32 i32'), WASI('proc_exit', 'i32', '')
    ].join('\n')
    const agent = await load(module(`${imports}
      (func $check (param i32) (if (local.get 0) (then unreachable)))
      (func (export "_start") (local $fd i32)
        (call $check (call $args_sizes_get (i32.const 0) (i32.const 4)))
        (call $check (call $environ_sizes_get (i32.const 0) (i32.const 4)))
        (call $check (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 8)))
        (call $check (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 8)))
        (call $check (call $random_get (i32.const 100) (i32.const 32)))
        (call $check (call $fd_fdstat_get (i32.const 1) (i32.const 200)))
        (drop (call $fd_fdstat_set_flags (i32.const 1) (i32.const 4)))
        (local.set $fd (i32.const 3))
        (block $done (loop $next
          (br_if $done (i32.ne (call $fd_prestat_get (local.get $fd) (i32.const 300)) (i32.const 0)))
          (local.set $fd (i32.add (local.get $fd) (i32.const 1))) (br $next)))
        ;; a 1 ms clock subscription, relative
        (i64.store (i32.const 400) (i64.const 1)) (i32.store8 (i32.const 408) (i32.const 0))
        (i32.store (i32.const 416) (i32.const 1)) (i64.store (i32.const 424) (i64.const 1000000))
        (call $check (call $poll_oneoff (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 600)))
        (call $check (call $sched_yield))
        (call $check (i32.ne (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 700)) (i32.const 8)))
        (call $proc_exit (i32.const 0)))`))
    expect(agent.init()).toMatchObject({ ok: true })
    expect(agent.tick()).toMatchObject({ ok: true })
  })

  it('Rust wasm32-wasip1 (command): _start reads args and environ, writes stderr, returns', async () => {
    const agent = await load(module(`${WASI('fd_write', 'i32 i32 i32 i32')} ${WASI('environ_get', 'i32 i32')} ${WASI('environ_sizes_get', 'i32 i32')}
      ${WASI('args_get', 'i32 i32')} ${WASI('args_sizes_get', 'i32 i32')} ${WASI('proc_exit', 'i32', '')} ${WASI('fd_prestat_get', 'i32 i32')}
      ${WASI('fd_prestat_dir_name', 'i32 i32 i32')} ${WASI('fd_close', 'i32')} ${WASI('fd_seek', 'i32 i64 i32 i32')}
      (data (i32.const 64) "rust says hi\\n")
      (func (export "_start")
        (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
        (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
        (drop (call $fd_prestat_get (i32.const 3) (i32.const 8)))
        (i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 13))
        (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 24))))`))
    expect(agent.init()).toMatchObject({ ok: true })
    expect(agent.logs()).toEqual(['stderr: rust says hi'])
  })

  it('clang/wasi-libc (reactor): _initialize runs constructors; stdio probed with fd_fdstat_get', async () => {
    const agent = await load(module(`${WASI('fd_close', 'i32')} ${WASI('fd_fdstat_get', 'i32 i32')} ${WASI('fd_seek', 'i32 i64 i32 i32')}
      ${WASI('fd_write', 'i32 i32 i32 i32')} ${WASI('proc_exit', 'i32', '')}
      (func (export "_initialize") (if (call $fd_fdstat_get (i32.const 1) (i32.const 0)) (then unreachable)))`))
    expect(agent.init()).toMatchObject({ ok: true })
    expect(agent.tick()).toMatchObject({ ok: true })
  })
})

describe('calls into the agent (SPEC §11)', () => {
  it('every reply reports elapsedNs; state round-trips through checkpoint and resume', async () => {
    const agent = await load(module(''))
    const init = agent.init()
    expect(init.elapsedNs).toBeGreaterThan(0n)
    agent.tick()
    agent.tick()
    const saved = agent.checkpoint()
    expect(saved).toMatchObject({ ok: true })
    expect(saved.ok && saved.state).toEqual(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]))
    const again = await load(module(''))
    expect(again.init(new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]))).toMatchObject({ ok: true })
    const state = again.checkpoint()
    expect(state.ok && state.state?.[0]).toBe(5)
  })

  it('proc_exit(0) from _start is success; elsewhere it ends the call as an exit', async () => {
    const exit = `${WASI('proc_exit', 'i32', '')}`
    const zero = await load(module(`${exit} (func (export "_start") (call $proc_exit (i32.const 0)))`))
    expect(zero.init()).toMatchObject({ ok: true })
    const nonZero = await load(module(`${exit} (func (export "_start") (call $proc_exit (i32.const 3)))`))
    expect(nonZero.init()).toMatchObject({ ok: false, kind: 'exit', message: 'agent called proc_exit(3)' })
    const inTick = await load(module(exit, { tick: '(func (export "agent_tick") (result i32) (call $proc_exit (i32.const 0)) (i32.const 0))' }))
    expect(inTick.init()).toMatchObject({ ok: true })
    expect(inTick.tick()).toMatchObject({ ok: false, kind: 'exit', message: 'agent called proc_exit(0)' })
  })

  it('a poll_oneoff sleep past the deadline ends the call at once, charged the full deadline', async () => {
    const agent = await load(module(`${WASI('poll_oneoff', 'i32 i32 i32 i32')}`, {
      tick: `(func (export "agent_tick") (result i32)
        (i32.store8 (i32.const 408) (i32.const 0)) (i32.store (i32.const 416) (i32.const 1))
        (i64.store (i32.const 424) (i64.const 3600000000000))
        (drop (call $poll_oneoff (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 600))) (i32.const 0))`
    }))
    agent.init()
    const reply = agent.tick()
    expect(reply).toMatchObject({ ok: false, kind: 'timeout' })
    expect(reply.elapsedNs).toBe(1_000_000_000n)
  })

  it('a log_emit flood in one tick posts 64 lines and one summary', async () => {
    const agent = await load(module('(import "igor" "log_emit" (func $log (param i32 i32))) (data (i32.const 64) "spam")', {
      tick: `(func (export "agent_tick") (result i32) (local $i i32)
        (loop $l (call $log (i32.const 64) (i32.const 4)) (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 100000)))) (i32.const 0))`
    }), LOG)
    agent.init()
    expect(agent.tick()).toMatchObject({ ok: true })
    const logs = agent.logs()
    expect(logs).toHaveLength(65)
    expect(logs.at(-1)).toMatch(/^sandbox: agent output over the per-call cap .*dropped 99936 lines, 399744 bytes$/)
  })

  it.each([
    ['agent_checkpoint size past memory', { abi: ABI.replace('(i32.const 8))', '(i32.const 100000))') }, 'checkpoint', /^agent_checkpoint returned 100000 bytes at 1024, outside its memory \(65536 bytes\)$/],
    ['a negative agent_checkpoint size', { abi: ABI.replace('(i32.const 8))', '(i32.const -8))') }, 'checkpoint', /^agent_checkpoint returned a negative size -8$/],
    ['agent_checkpoint_ptr past memory', { abi: ABI.replace('(i32.const 1024))', '(i32.const 65535))') }, 'checkpoint', /^agent_checkpoint returned 8 bytes at 65535, outside its memory/],
    ['a negative agent_checkpoint_ptr', { abi: ABI.replace('(i32.const 1024))', '(i32.const -1))') }, 'checkpoint', /^agent_checkpoint returned 8 bytes at 4294967295, outside/],
    ['malloc returning 0', { abi: ABI.replace('(i32.const 2048))', '(i32.const 0))') }, 'resume', /^malloc\(8\) returned an unusable pointer 0/],
    ['malloc returning a pointer past memory', { abi: ABI.replace('(i32.const 2048))', '(i32.const 65534))') }, 'resume', /^malloc\(8\) returned an unusable pointer 65534/],
    ['malloc returning a negative pointer', { abi: ABI.replace('(i32.const 2048))', '(i32.const -16))') }, 'resume', /^malloc\(8\) returned an unusable pointer -16/]
  ])('%s is an abi failure with a one-line reason', async (_label, shape, op, message) => {
    const agent = await load(module('', shape))
    const reply = op === 'resume' ? agent.init(new Uint8Array(8)) : (agent.init(), agent.checkpoint())
    expect(reply).toMatchObject({ ok: false, kind: 'abi' })
    expect(!reply.ok && reply.message).toMatch(message)
  })

  it('a trap is a trap with a one-line reason', async () => {
    const agent = await load(module('', { tick: '(func (export "agent_tick") (result i32) unreachable)' }))
    agent.init()
    const reply = agent.tick()
    expect(reply).toMatchObject({ ok: false, kind: 'trap' })
    expect(!reply.ok && reply.message.includes('\n')).toBe(false)
  })
})
