// SPEC §15 "Node price" with real igord processes: an agent that calls
// node_price (capability `pricing`) sees the node's --price-per-second, each
// call is recorded as observation id 7 and its ticks replay (self-verification
// on the node, and the target's replay of a migrated agent, which charges
// another price); the agent's history verifies VALID with `igord verify`.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { decodeCheckpoint } from '@igor/checkpoint-codec'
import { describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'

const { nodes, dir } = useNodes()

const history = (dataDir: string): string => join(dataDir, 'checkpoints', 'history', 'pricer')

/** The pricer's stored state: u64 tick count, i64 the price its last tick saw. */
async function storedState(dataDir: string): Promise<{ tickNumber: bigint, pricePerSecond: bigint, ticks: bigint, price: bigint }> {
  const checkpoint = decodeCheckpoint(await readFile(join(dataDir, 'checkpoints', 'pricer.checkpoint')))
  const state = checkpoint.state
  expect(state.byteLength).toBe(16)
  const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
  return { tickNumber: checkpoint.tickNumber, pricePerSecond: checkpoint.pricePerSecond, ticks: view.getBigUint64(0, true), price: view.getBigInt64(8, true) }
}

function expectValid(result: { code: number | null, stdout: string, stderr: string }): void {
  if (result.code !== 0) throw new Error(`verify failed:\n${result.stdout}${result.stderr}`)
  expect(result.stderr).toBe('')
  expect(result.stdout).toMatch(/\n\nLineage: {8}VALID \(all \d+ signatures verified, chain unbroken\)\n$/)
}

async function priceLine(node: Igord, price: string): Promise<void> {
  await node.waitForLog(`price ${price} logged`, (l) => l.agentId === 'pricer' && l.msg === `price ${price}`, 60_000)
}

describe('node_price on a real node (SPEC §15)', () => {
  it('--price-per-second 2500: the agent sees 2500, its ticks replay, its state keeps it, its history verifies VALID', async () => {
    const A = await nodes.start(join(dir.path, 'A'), [
      '--run-agent', agentPath('pricer'), '--price-per-second', '2500',
      '--verify-interval', '1', '--replay-on-divergence', 'pause', '--log-level', 'debug'
    ]).ready()
    await priceLine(A, '2500')
    // SPEC §12 self-verification replays ticks that called node_price (id 7) from their record.
    await A.waitForLog('a verified replay', (l) => l.msg === 'replay verified' && l.agentId === 'pricer', 60_000)
    const status = await ticking(A, 'pricer', 2n)
    expect(status.halted).toBeNull()
    expect(A.logs.filter((l) => l.agentId === 'pricer' && l.msg.startsWith('replay divergence'))).toEqual([])
    expect(A.logs.filter((l) => l.agentId === 'pricer' && /^price /.test(l.msg)).every((l) => l.msg === 'price 2500')).toBe(true)
    await A.stop()

    const stored = await storedState(A.dataDir)
    expect(stored.price).toBe(2500n)
    expect(stored.pricePerSecond).toBe(2500n)
    expect(stored.ticks).toBe(stored.tickNumber)
    expectValid(await runCli(['verify', history(A.dataDir)]))
  }, 120_000)

  it('a migrated agent\'s last tick replays on a target with another price, then sees the target\'s price', async () => {
    const A = await nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('pricer'), '--price-per-second', '2500']).ready()
    const B = await nodes.start(join(dir.path, 'B'), ['--price-per-second', '1000', '--replay-mode', 'on-migrate']).ready()
    await ticking(A, 'pricer', 2n)
    await priceLine(A, '2500')
    const result = await runCli(['migrate', 'pricer', '--to', B.address(), '--data-dir', A.dataDir])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    // The package's ReplayData recorded node_price = 2500; B charges 1000 and still reproduces the state.
    await B.waitForLog('replay verified on arrival', (l) => l.msg.startsWith('replay verified') && l.agentId === 'pricer', 60_000)
    await priceLine(B, '1000')
    await waitFor('a checkpoint on B that saw 1000', async () => {
      await ticking(B, 'pricer')
      const stored = await storedState(B.dataDir).catch(() => null)
      return stored !== null && stored.price === 1000n ? stored : null
    }, 60_000)
    await B.stop()
    await A.stop()
    expectValid(await runCli(['verify', history(A.dataDir), history(B.dataDir)]))
  }, 120_000)

  it('igord simulate serves node_price at the simulator\'s price (1000) and replays every tick', async () => {
    const result = await runCli(['simulate', agentPath('pricer'), '--ticks', '3', '--verify', '--deterministic'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(lines.filter((l) => l.startsWith('[agent]'))).toEqual(['[agent] price 1000', '[agent] price 1000', '[agent] price 1000'])
    expect(lines.at(-1)).toBe('Simulation complete: ticks_executed=3 budget_consumed=0.000003 budget_remaining=0.999997 checkpoint_bytes=16 replay_verified=3 replay_failed=0 errors=0')
  }, 60_000)
})
