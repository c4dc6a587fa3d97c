import { readFile } from 'node:fs/promises'
import { AGENT_NAMES, agentPath, manifestPath } from '@igor/agents'
import { CAPABILITIES, silentLogger } from '@igor/sandbox'
import { describe, expect, it } from 'vitest'
import { simulate } from './simulate.js'

// SPEC §12: replay passes for every example agent. looper and trapper fail
// their 3rd tick by design (a loop, a trap): the two ticks before replay.
const SPECIAL: readonly string[] = ['looper', 'trapper', 'hog']
const REPLAYABLE = AGENT_NAMES.filter((name) => !SPECIAL.includes(name))

/** Agents whose manifest needs a capability this runner does not offer yet (http) cannot run here at all. */
async function runnable(name: string): Promise<boolean> {
  const manifest = JSON.parse(await readFile(manifestPath(name as never), 'utf8')) as { capabilities?: Record<string, unknown> }
  return Object.keys(manifest.capabilities ?? {}).every((c) => (CAPABILITIES as readonly string[]).includes(c))
}

describe('replay of every example agent (simulate --verify)', () => {
  it.each(REPLAYABLE)('%s: every tick replays to the same state, and the final checkpoint round-trips', async (name) => {
    if (!await runnable(name)) return
    const result = await simulate({ wasmPath: agentPath(name), ticks: 4, budget: 1_000_000n, verify: true, deterministicSeed: null, agentLogger: silentLogger })
    expect(result.errors).toEqual([])
    expect(result.ticksExecuted).toBe(4)
    expect(result.replayVerified).toBe(4)
    expect(result.replayFailed).toBe(0)
  }, 60_000)

  it('hog: its ticks replay until it traps on its own', async () => {
    const result = await simulate({ wasmPath: agentPath('hog'), ticks: 3, budget: 1_000_000n, verify: true, deterministicSeed: null, agentLogger: silentLogger })
    expect(result.replayFailed).toBe(0)
    expect(result.replayVerified).toBe(result.ticksExecuted)
  }, 60_000)

  it.each(['looper', 'trapper'] as const)('%s: the ticks before its failing 3rd replay; the failure is reported', async (name) => {
    const result = await simulate({ wasmPath: agentPath(name), ticks: 5, budget: 1_000_000n, verify: true, deterministicSeed: null, agentLogger: silentLogger })
    expect(result.ticksExecuted).toBe(2)
    expect(result.replayVerified).toBe(2)
    expect(result.replayFailed).toBe(0)
    expect(result.errors[0]).toMatch(/^tick 3: /)
  }, 60_000)

  it('pricer: node_price answers the simulated price (default 1000), every tick replays (SPEC §15)', async () => {
    const run = async (pricePerSecond: bigint | undefined, deterministicSeed: bigint | null): Promise<{ lines: string[], result: Awaited<ReturnType<typeof simulate>> }> => {
      const lines: string[] = []
      const logger = { ...silentLogger, info: (_: object, msg?: string) => { lines.push(msg ?? '') }, child: () => logger }
      const result = await simulate({ wasmPath: agentPath('pricer'), ticks: 3, budget: 1_000_000n, verify: true, deterministicSeed, agentLogger: logger, ...(pricePerSecond !== undefined ? { pricePerSecond } : {}) })
      return { lines, result }
    }
    const live = await run(2500n, null)
    expect(live.result.errors).toEqual([])
    expect(live.result.replayVerified).toBe(3)
    expect(live.lines).toEqual(['price 2500', 'price 2500', 'price 2500'])
    const deterministic = await run(undefined, 42n)
    expect(deterministic.result.replayVerified).toBe(3)
    expect(deterministic.lines).toEqual(['price 1000', 'price 1000', 'price 1000'])
    // Charged at the price: 3 ticks of DETERMINISTIC_TICK_NS (1 ms) at 1000 µ¢/s.
    expect(deterministic.result.budgetConsumed).toBe(3n)
  }, 60_000)

  it('nomad: request_move answers as on a node and every tick replays; nothing moves, so each request is settled at once (SPEC §16)', async () => {
    const lines: string[] = []
    const logger = { ...silentLogger, info: (_: object, msg?: string) => { lines.push(msg ?? '') }, child: () => logger }
    const result = await simulate({ wasmPath: agentPath('nomad'), ticks: 3, budget: 1_000_000n, verify: true, deterministicSeed: 42n, agentLogger: logger, pricePerSecond: 5000n })
    expect(result.errors).toEqual([])
    expect(result.replayVerified).toBe(3)
    expect(lines).toEqual([1, 2, 3].map((n) => `[nomad] tick=${n} price=5000 threshold=2000 move=asked`))
  }, 60_000)

  it('--deterministic: the same seed gives the same agent output and state, byte for byte', async () => {
    const run = async (seed: bigint): Promise<{ lines: string[], bytes: number, result: Awaited<ReturnType<typeof simulate>> }> => {
      const lines: string[] = []
      const logger = { ...silentLogger, info: (_: object, msg?: string) => { lines.push(msg ?? '') }, child: () => logger }
      const result = await simulate({ wasmPath: agentPath('survivor'), ticks: 3, budget: 1_000_000n, verify: true, deterministicSeed: seed, agentLogger: logger })
      return { lines, bytes: result.checkpointBytes, result }
    }
    const a = await run(42n)
    const b = await run(42n)
    const c = await run(7n)
    expect(a.result.errors).toEqual([])
    expect(a.lines).toEqual(b.lines)
    expect(a.result).toEqual(b.result)
    expect(a.lines[0]).toMatch(/^survivor tick 1 alive 1\.0s luck 0x/)
    expect(c.lines).not.toEqual(a.lines)
  }, 60_000)
})
