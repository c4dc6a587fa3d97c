import { describe, expect, it } from 'vitest'
import { EMPTY_MANIFEST, parseManifest } from '../manifest/manifest.js'
import { agentWat } from '@igor/test-kit'
import { sandboxFailure, startWatSandbox } from './sandbox.test-helper.js'
import { OUTPUT_RATE } from './output-rate.js'

const LOG = parseManifest('{"capabilities": {"log": {"version": 1}}}', { source: 'x.manifest.json' })

const sandbox = async (source: string, manifest = EMPTY_MANIFEST, limits = {}) => startWatSandbox(source, { manifest, limits })
const failure = sandboxFailure

const SPIN = '(func (export "agent_tick") (result i32) (loop $l (br $l)) (i32.const 0))'

describe('AgentSandbox (SPEC §11)', () => {
  it('a spinning tick is stopped at its deadline and charged the full deadline', async () => {
    const { box } = await sandbox(agentWat({ omit: ['agent_tick'], extra: SPIN }))
    const error = await failure(box.tick(1000n))
    expect(error.kind).toBe('timeout')
    expect(error.elapsedNs).toBe(100_000_000n)
    expect(box.alive).toBe(false)
    await box.terminate()
  })

  it('a busy main thread does not postpone an agent\'s deadline', async () => {
    const { box } = await sandbox(agentWat({ omit: ['agent_tick'], extra: SPIN }))
    const ticking = failure(box.tick(1000n))
    const until = performance.now() + 400
    while (performance.now() < until) { /* the node's event loop is busy; the timer fires late */ }
    expect((await ticking).kind).toBe('timeout')
    await box.terminate()
  })

  it('a spinning agent_checkpoint is stopped at the checkpoint deadline', async () => {
    const { box } = await sandbox(agentWat({ omit: ['agent_checkpoint'], extra: '(func (export "agent_checkpoint") (result i32) (loop $l (br $l)) (i32.const 0))' }), EMPTY_MANIFEST, { checkpointTimeoutMs: 200 })
    const error = await failure(box.checkpoint())
    expect(error.kind).toBe('timeout')
    expect(error.elapsedNs).toBe(200_000_000n)
  })

  it('charges start-up and checkpoint time through takeUncharged', async () => {
    const { box } = await sandbox(agentWat())
    expect(box.takeUncharged()).toBeGreaterThan(0n)
    expect(box.takeUncharged()).toBe(0n)
    await box.checkpoint()
    expect(box.takeUncharged()).toBeGreaterThan(0n)
    const tick = await box.tick(1000n)
    expect(tick.elapsedNs).toBeGreaterThan(0n)
    await box.terminate()
  })

  it('a log flood in one tick reaches the node as 64 lines and one summary', async () => {
    const { box, logger } = await sandbox(agentWat({
      imports: '(import "igor" "log_emit" (func $log (param i32 i32)))',
      omit: ['agent_tick'],
      extra: `(func (export "agent_tick") (result i32) (local $i i32)
        (loop $l (call $log (i32.const 0) (i32.const 100)) (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 5000)))) (i32.const 0))`
    }), LOG, { tickTimeoutMs: 10_000 })
    await box.tick(1000n)
    await box.tick(1000n)
    expect(logger.lines.filter((l) => l.fields.src === 'agent')).toHaveLength(128)
    expect(logger.lines.filter((l) => l.fields.src === 'sandbox').map((l) => l.msg)).toEqual([
      'agent output over the per-call cap (64 lines, 65536 bytes): dropped 4936 lines, 493600 bytes',
      'agent output over the per-call cap (64 lines, 65536 bytes): dropped 4936 lines, 493600 bytes'
    ])
    await box.terminate()
  })

  it('an agent that floods every call is held to the node\'s output rate across calls, with a summary', async () => {
    const { box, logger } = await sandbox(agentWat({
      imports: '(import "igor" "log_emit" (func $log (param i32 i32)))',
      omit: ['agent_tick'],
      extra: `(func (export "agent_tick") (result i32) (local $i i32)
        (loop $l (call $log (i32.const 0) (i32.const 100)) (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 64)))) (i32.const 1))`
    }), LOG, { tickTimeoutMs: 10_000 })
    const started = performance.now()
    for (let i = 0; i < 40; i++) await box.tick(1000n) // 2560 lines, far over the burst
    const seconds = (performance.now() - started) / 1000
    const logged = logger.lines.filter((l) => l.fields.src === 'agent').length
    expect(logged).toBeGreaterThanOrEqual(OUTPUT_RATE.burstLines)
    expect(logged).toBeLessThanOrEqual(OUTPUT_RATE.burstLines + Math.ceil(seconds * OUTPUT_RATE.linesPerSecond) + 1)
    expect(logger.lines.filter((l) => l.fields.src === 'sandbox' && /over the rate limit/.test(l.msg)).length).toBeGreaterThan(0)
    await box.terminate()
  })

  it('terminate() interrupts a worker sleeping in poll_oneoff', async () => {
    const { box } = await sandbox(agentWat({
      imports: '(import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))',
      omit: ['agent_tick'],
      extra: `(func (export "agent_tick") (result i32)
        (i32.store8 (i32.const 408) (i32.const 0)) (i32.store (i32.const 416) (i32.const 1))
        (i64.store (i32.const 424) (i64.const 50000000000))
        (drop (call $poll (i32.const 400) (i32.const 500) (i32.const 1) (i32.const 600))) (i32.const 0))`
    }), EMPTY_MANIFEST, { tickTimeoutMs: 60_000 })
    const ticking = failure(box.tick(1000n))
    await new Promise((resolve) => setTimeout(resolve, 100))
    await box.terminate() // a 50 s sleep would outlast the test's timeout if it held this up
    expect((await ticking).kind).toBe('terminated')
  })

  it('terminate() returns even for a worker stuck in a call', async () => {
    const { box } = await sandbox(agentWat({ omit: ['agent_tick'], extra: SPIN }), EMPTY_MANIFEST, { tickTimeoutMs: 60_000 })
    const ticking = failure(box.tick(1000n))
    await box.terminate()
    expect((await ticking).kind).toBe('terminated')
  })
})
