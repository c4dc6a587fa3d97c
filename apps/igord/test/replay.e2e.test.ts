import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'
import { agentWat, writeWat } from './wat.js'

const { nodes, dir } = useNodes()

/**
 * A deliberately non-deterministic agent (SPEC §12): it keeps a counter in a
 * global that its checkpoint does not save, and writes that counter as its
 * state every tick (reading the clock, so every tick makes an observation).
 * Live, the state counts 1, 2, 3…; a replay from a fresh instance starts the
 * hidden counter at 0 again, so every replay after the first tick diverges.
 */
async function forgetfulAgent(): Promise<string> {
  const path = join(dir.path, 'forgetful.wasm')
  await writeWat(path, agentWat({
    imports: '(import "igor" "clock_now" (func $clock_now (result i64)))',
    extra: '(global $hidden (mut i64) (i64.const 0))',
    tick: `(global.set $hidden (i64.add (global.get $hidden) (i64.const 1)))
      (drop (call $clock_now))
      (i64.store (i32.const 1024) (global.get $hidden))
      (i32.const 0)`
  }))
  await writeFile(join(dir.path, 'forgetful.manifest.json'), JSON.stringify({ capabilities: { clock: { version: 1 } } }))
  return path
}

async function agentStatus(node: Igord, agentId: string, ok: (a: NonNullable<Awaited<ReturnType<Igord['agent']>>>) => boolean) {
  return waitFor(`${agentId} on ${node.dataDir}`, async () => {
    const a = await node.agent(agentId)
    return a !== undefined && ok(a) ? a : null
  }, 60_000)
}

describe('self-verification (SPEC §12)', () => {
  it('--replay-on-divergence pause halts a non-deterministic agent with "replay divergence at tick <n>"', async () => {
    const wasm = await forgetfulAgent()
    const node = await nodes.start(join(dir.path, 'A'), ['--run-agent', wasm, '--verify-interval', '1', '--replay-on-divergence', 'pause']).ready()
    const halted = await agentStatus(node, 'forgetful', (a) => a.halted !== null)
    expect(halted.halted).toMatch(/^replay divergence at tick \d+$/)
    const tick = BigInt(/(\d+)$/.exec(halted.halted!)![1]!)
    expect(tick).toBeGreaterThanOrEqual(2n)
    const line = await node.waitForLog('divergence logged', (l) => /^replay divergence at tick \d+, first diff byte 0$/.test(l.msg))
    expect(line.agentId).toBe('forgetful')
  }, 90_000)

  it('a deterministic agent is verified and keeps ticking (--verify-interval 1)', async () => {
    const node = await nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('survivor'), '--verify-interval', '1', '--replay-on-divergence', 'pause', '--log-level', 'debug']).ready()
    await node.waitForLog('a verified replay', (l) => l.msg === 'replay verified' && l.agentId === 'survivor', 60_000)
    const a = await agentStatus(node, 'survivor', (s) => BigInt(s.tickNumber) >= 3n)
    expect(a.halted).toBeNull()
  }, 90_000)

  it.each([
    [['--replay-mode', 'fulll'], '--replay-mode must be one of off, periodic, on-migrate, full (got "fulll")'],
    [['--verify-interval', '0'], '--verify-interval must be a whole number of ticks from 1 to 1000000000 (got "0")'],
    [['--replay-on-divergence', 'panic'], '--replay-on-divergence must be one of log, pause, intensify (got "panic")']
  ])('refuses %j before anything starts', async (flags, message) => {
    const result = await runCli(['start', '--data-dir', join(dir.path, 'X'), ...flags])
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain(message)
  })
})

describe('igord simulate (SPEC §12)', () => {
  it('--deterministic --seed 42 --verify prints the same bytes twice, ends with the summary line, exits 0', async () => {
    const args = ['simulate', agentPath('survivor'), '--ticks', '5', '--verify', '--deterministic', '--seed', '42']
    const first = await runCli(args)
    const second = await runCli(args)
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(second.code).toBe(0)
    expect(second.stdout).toBe(first.stdout)
    const lines = first.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^\[agent\] survivor tick 1 alive 1\.0s luck 0x[0-9a-f]{16}$/)
    expect(lines.at(-1)).toBe('Simulation complete: ticks_executed=5 budget_consumed=0.000005 budget_remaining=0.999995 checkpoint_bytes=32 replay_verified=5 replay_failed=0 errors=0')
  }, 60_000)

  it('a non-deterministic agent fails --verify: exit 1, the failures named', async () => {
    const wasm = await forgetfulAgent()
    const result = await runCli(['simulate', wasm, '--ticks', '3', '--verify'])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/replay_verified=1 replay_failed=2 errors=2\n$/)
    expect(result.stderr).toContain('Simulation error: tick 2 replay: replay divergence at tick 2, first diff byte 0')
  }, 60_000)

  it('a bad command line is a usage error (exit 2); a missing file is a one-line failure (exit 1)', async () => {
    expect((await runCli(['simulate'])).code).toBe(2)
    expect((await runCli(['simulate', agentPath('counter'), '--ticks', 'x'])).code).toBe(2)
    expect((await runCli(['simulate', agentPath('counter'), '--seed', '1'])).code).toBe(2)
    const missing = await runCli(['simulate', join(dir.path, 'nope.wasm')])
    expect(missing.code).toBe(1)
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
    expect(missing.stderr).toMatch(/^igord: simulate: .*nope\.wasm: no such file/)
  }, 60_000)
})

describe('replay before accepting a migrated agent (SPEC §12)', () => {
  it('a target refuses a package whose ReplayData does not reproduce its checkpoint; the source ticks on at (M,G+1)', async () => {
    const wasm = await forgetfulAgent()
    // The source only logs its own divergences (policy log), so the agent is still live when it is sent.
    const A = await nodes.start(join(dir.path, 'A'), ['--run-agent', wasm, '--replay-mode', 'off']).ready()
    const B = await nodes.start(join(dir.path, 'B'), []).ready()
    const before = await agentStatus(A, 'forgetful', (a) => BigInt(a.tickNumber) >= 2n)
    const result = await runCli(['migrate', 'forgetful', '--to', B.address(), '--data-dir', A.dataDir])
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/refused forgetful: replay divergence at tick \d+, first diff byte 0/)
    const after = await agentStatus(A, 'forgetful', (a) => a.halted === null && BigInt(a.tickNumber) > BigInt(before.tickNumber) + 1n)
    expect(after.state).toBe('ACTIVE_OWNER')
    expect(after.majorVersion).toBe(before.majorVersion)
    expect(BigInt(after.leaseGeneration)).toBe(BigInt(before.leaseGeneration) + 1n)
    expect(await B.agent('forgetful')).toBeUndefined()
  }, 90_000)

  it('a deterministic agent passes the target\'s replay and moves', async () => {
    const A = await nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('survivor')]).ready()
    const B = await nodes.start(join(dir.path, 'B'), ['--replay-mode', 'on-migrate']).ready()
    await agentStatus(A, 'survivor', (a) => BigInt(a.tickNumber) >= 2n)
    const result = await runCli(['migrate', 'survivor', '--to', B.address(), '--data-dir', A.dataDir])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    await B.waitForLog('replay verified on arrival', (l) => l.msg.startsWith('replay verified') && l.agentId === 'survivor')
    await agentStatus(B, 'survivor', (a) => a.majorVersion === '1' && a.halted === null)
  }, 90_000)
})
