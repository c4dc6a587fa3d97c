import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import type { Igord } from './harness.js'
import { runCli, useNodes, waitFor } from './harness.js'
import { agentWat, writeWat } from './wat.js'

// Issue 17 findings 1-2 / SPEC §11 "Sharing a thread, fairly": agents that
// share a worker thread with a hog. The victim (the counter agent) runs in
// two nodes started together — alone in one, beside the hog in the other,
// sharing its worker (the default --agents-per-worker) — and its ticks are
// compared over the same stretch of time: a ratio, never an absolute time.

const MONO = `(import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))`
const BUSY = `
  (func $mono (result i64) (drop (call $now (i32.const 1) (i64.const 1) (i32.const 32))) (i64.load (i32.const 32)))
  (func $busy (param $ns i64) (local $until i64)
    (local.set $until (i64.add (call $mono) (local.get $ns)))
    (loop $spin (br_if $spin (i64.lt_u (call $mono) (local.get $until)))))`

/** Legal but greedy: 4 s in agent_init, 4.8 s in every agent_checkpoint (both inside their deadlines). */
const HOG = agentWat({
  imports: MONO,
  omit: ['agent_init', 'agent_checkpoint'],
  tick: '(i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1))) (i32.const 0)',
  extra: `${BUSY}
  (func (export "agent_init") (call $busy (i64.const 4000000000)))
  (func (export "agent_checkpoint") (result i32) (call $busy (i64.const 4800000000)) (i32.const 8))`
})

/** Behaves for 15 ticks (past probation on any node it arrives at), then loops in every tick (issue 17 finding 3). */
const LATE_LOOPER = agentWat({
  tick: `(i64.store (i32.const 1024) (i64.add (i64.load (i32.const 1024)) (i64.const 1)))
    (if (i64.gt_u (i64.load (i32.const 1024)) (i64.const 15)) (then (loop $l (br $l))))
    (i32.const 0)`
})

/** A start function that never returns. */
const START_LOOP = agentWat({ extra: '(func $start (loop $l (br $l))) (start $start)' })

const { nodes, dir } = useNodes()

async function ticks(node: Igord, agentId: string): Promise<bigint> {
  const agent = await node.agent(agentId)
  return agent === undefined ? 0n : BigInt(agent.tickNumber)
}

function restarts(node: Igord, agentId: string): number {
  return node.logs.filter((l) => l.agentId === agentId && l.msg.startsWith('agent restarted from its last checkpoint')).length
}

/** The victim's ticks in both nodes over the same stretch, read back to back at its ends. */
async function ticksOver(alone: Igord, shared: Igord, ms: number): Promise<{ alone: bigint, shared: bigint }> {
  const start = await Promise.all([ticks(alone, 'counter'), ticks(shared, 'counter')])
  await new Promise((resolve) => setTimeout(resolve, ms))
  const end = await Promise.all([ticks(alone, 'counter'), ticks(shared, 'counter')])
  return { alone: end[0] - start[0], shared: end[1] - start[1] }
}

describe('neighbours cannot hurt each other (SPEC §11 sharing a thread, issue 17)', () => {
  it('a hog (4 s agent_init, 4.8 s checkpoints) beside a victim: the victim keeps ≥ 90 % of the ticks it has alone; the hog moves to a thread of its own; SIGTERM stops the node', async () => {
    const hog = await writeWat(join(dir.path, 'hog.wasm'), HOG)
    const started = performance.now()
    const [alone, shared] = await Promise.all([
      nodes.start(join(dir.path, 'alone'), ['--run-agent', agentPath('counter')]).ready(),
      nodes.start(join(dir.path, 'shared'), ['--run-agent', agentPath('counter'), '--run-agent', hog]).ready()
    ])
    console.log(`both nodes ready after ${Math.round(performance.now() - started)} ms`)
    // Neither node waited for the hog to open the network.
    expect(shared.logs.findIndex((l) => l.msg.startsWith('network up on'))).toBeLessThan(shared.logs.findIndex((l) => l.msg.startsWith('listening on')))

    // Over a stretch that spans the hog's checkpoints (every 5 s), the victim ticks as often as alone.
    const counted = await ticksOver(alone, shared, 16_000)
    console.log(`victim ticks over the same stretch: alone ${counted.alone}, beside the hog ${counted.shared}`)
    expect(counted.alone).toBeGreaterThan(3n)
    expect(Number(counted.shared) / Number(counted.alone)).toBeGreaterThanOrEqual(0.9)
    expect(restarts(shared, 'counter')).toBe(0)
    // The hog was moved to a worker of its own (its loading needed more than its share) and runs on there.
    expect(shared.logs.some((l) => l.agentId === 'hog' && typeof l.msg === 'string' && l.msg.includes('share of a shared worker thread'))).toBe(true)
    expect((await shared.agent('hog'))?.halted).toBeNull()

    // SIGTERM: the node stops (its final checkpoints are bounded) and exits cleanly.
    const stopping = performance.now()
    shared.signal('SIGTERM')
    expect(await shared.exited).toEqual({ code: 0, signal: null })
    console.log(`SIGTERM to exit with the hog: ${Math.round(performance.now() - stopping)} ms`)
    await alone.stop()
  }, 240_000)

  it('a peer pushes an agent that behaves past probation, then loops in a shared worker: it is interrupted alone; the victim is never evicted and ticks on (finding 3)', async () => {
    const wasm = await writeWat(join(dir.path, 'late-looper.wasm'), LATE_LOOPER)
    const [pusher, victimNode] = await Promise.all([
      nodes.start(join(dir.path, 'pusher'), ['--run-agent', wasm]).ready(),
      nodes.start(join(dir.path, 'victim'), ['--run-agent', agentPath('counter')]).ready()
    ])
    await waitFor('late-looper ticking on the pusher', async () => await ticks(pusher, 'late-looper') > 1n ? true : null, 60_000)
    const moved = await runCli(['migrate', 'late-looper', '--to', victimNode.address(), '--data-dir', pusher.dataDir])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    // It leaves probation at its first checkpoint on the victim's node and shares the victim's worker from then on.
    const halted = await waitFor('late-looper halted on the victim node', async () => (await victimNode.agent('late-looper'))?.halted, 90_000)
    expect(halted).toMatch(/tick failed/)
    // It looped in the victim's shared worker, not in its probation worker.
    const movedAt = victimNode.logs.findIndex((l) => l.agentId === 'late-looper' && l.msg === 'agent moved from its probation worker to a shared one')
    expect(movedAt).toBeGreaterThanOrEqual(0)
    const before = await ticks(victimNode, 'counter')
    await waitFor('the victim ticking on', async () => await ticks(victimNode, 'counter') > before + 2n ? true : null, 30_000)
    expect(restarts(victimNode, 'counter')).toBe(0)
    expect(victimNode.logs.filter((l) => l.agentId === 'counter' && typeof l.msg === 'string' && /evicted|was stopped/.test(l.msg))).toEqual([])
    await pusher.stop()
  }, 240_000)

  it('a start function that loops in a shared worker does not evict the victim: it is interrupted, loads alone, and fails there', async () => {
    const looper = await writeWat(join(dir.path, 'start-loop.wasm'), START_LOOP)
    const [alone, shared] = await Promise.all([
      nodes.start(join(dir.path, 'alone'), ['--run-agent', agentPath('counter')]).ready(),
      nodes.start(join(dir.path, 'shared'), ['--run-agent', agentPath('counter'), '--run-agent', looper]).ready()
    ])
    const failed = await waitFor('start-loop halted', async () => (await shared.agent('start-loop'))?.halted, 60_000)
    expect(failed).toMatch(/did not finish within 10000 ms/)
    const counted = await ticksOver(alone, shared, 6_000)
    expect(Number(counted.shared) / Number(counted.alone)).toBeGreaterThanOrEqual(0.9)
    // The victim was never evicted or restarted: its ticks went on from its own state.
    expect(restarts(shared, 'counter')).toBe(0)
    expect(shared.logs.filter((l) => l.agentId === 'counter' && typeof l.msg === 'string' && /evicted|was stopped/.test(l.msg))).toEqual([])
    expect(await ticks(shared, 'counter')).toBeGreaterThan(2n)
    expect(await shared.stop()).toEqual({ code: 0, signal: null })
    await alone.stop()
  }, 180_000)
})
