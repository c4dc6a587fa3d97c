import { describe, expect, it } from 'vitest'
import { EMPTY_MANIFEST, prepareAgentModule } from '@igor/sandbox'
import { agentWat, wat } from '@igor/test-kit'
import { describeReplayOutcome, replayTick } from './replay-tick.js'

// SPEC §11 "Resources an agent controls": a replay that runs out of its own resources (here the deadline,
// as on a busy machine) says nothing about the agent — skipped, never a divergence or a failure.
describe('replayTick: resource exhaustion is a skip', () => {
  it('a replay stopped at its deadline is skipped, and a trap is still a failure', async () => {
    const setupOf = async (tick: string) => {
      const prepared = await prepareAgentModule(await wat(agentWat({ omit: ['agent_tick'], extra: tick })), { path: 'r.wasm', manifest: EMPTY_MANIFEST })
      return { agentId: 'r', module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry }
    }
    const input = { tickNumber: 7n, preState: new Uint8Array(0), log: new Uint8Array(0), expectedState: new Uint8Array(0), limits: { tickTimeoutMs: 50 } }
    const looped = await replayTick({ ...input, setup: await setupOf('(func (export "agent_tick") (result i32) (loop $l br $l) i32.const 0)') })
    expect(looped.verified).toBe(false)
    expect('skipped' in looped).toBe(true)
    expect(describeReplayOutcome(looped)).toMatch(/^replay skipped at tick 7: agent_tick: /)
    const trapped = await replayTick({ ...input, setup: await setupOf('(func (export "agent_tick") (result i32) unreachable)') })
    expect('failure' in trapped).toBe(true)
    expect(describeReplayOutcome(trapped)).toMatch(/^replay verification failed: agent_tick: /)
  })
})
