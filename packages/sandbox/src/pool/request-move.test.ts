// SPEC §16 "The agent decides": capability `mobility`, `request_move(max i64) → i32` (0 noted, −1 migration
// disabled by the manifest, −2 a move already pending), observation id 13 (u32 LE), replayable (SPEC §12).
import { describe, expect, it } from 'vitest'
import { refusal, wat } from '@igor/test-kit'
import { silentLogger } from '../logger.js'
import { type Manifest, parseManifest } from '../manifest/manifest.js'
import { decodeEntries, encodeEntries, HostcallId, hostcallName, u64Payload } from '../observe/event-log.js'
import { prepareAgentModule } from '../wasm/prepare.js'
import { AgentSandbox } from './agent-sandbox.js'
import type { WorkerSetup } from './messages.js'

const MOBILE = parseManifest('{"capabilities": {"mobility": {"version": 1}}}', { source: 'mover.manifest.json' })
const STAYS = parseManifest('{"capabilities": {"mobility": {"version": 1}}, "migration_policy": {"enabled": false}}', { source: 'mover.manifest.json' })
const NONE = parseManifest('{"capabilities": {"clock": {"version": 1}}}', { source: 'mover.manifest.json' })

/**
 * State (16 bytes at 1024): the answers of the tick's two calls, as i32 each, then the i64 maximum asked.
 * Every tick asks twice with the maximum at 1032 (a resume with 8 bytes sets only it; with 16, the whole state).
 */
const MOVER = `(module
  (import "igor" "request_move" (func $move (param i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i32.store (i32.const 1024) (call $move (i64.load (i32.const 1032))))
    (i32.store (i32.const 1028) (call $move (i64.load (i32.const 1032))))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 16))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32)
    (if (i32.eq (local.get 1) (i32.const 16))
      (then (i64.store (i32.const 1024) (i64.load (local.get 0))) (i64.store (i32.const 1032) (i64.load offset=8 (local.get 0))))
      (else (i64.store (i32.const 1032) (i64.load (local.get 0))))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048)))`

const I64_MAX = (1n << 63n) - 1n

async function setup(manifest: Manifest = MOBILE): Promise<WorkerSetup> {
  const prepared = await prepareAgentModule(await wat(MOVER), { path: 'mover.wasm', manifest })
  return { agentId: 'mover', module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry, migrationEnabled: manifest.migration.enabled }
}

const answers = (bytes: Uint8Array): [number, number] => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8)
  return [view.getInt32(0, true), view.getInt32(4, true)]
}

describe('request_move (SPEC §16)', () => {
  it('answers 0 to the first call of a tick and -2 to the second; the maximum goes to the node with the reply', async () => {
    for (const max of [0n, 5000n, (1n << 53n) + 1n, I64_MAX, -1n]) {
      const box = await AgentSandbox.start({ ...await setup(), observe: { mode: 'record' } }, { budget: 1000n, state: u64Payload(max), logger: silentLogger })
      try {
        const tick = await box.tick(1000n)
        expect(tick.moveRequest).toBe(max)
        expect(answers(await box.checkpoint())).toEqual([0, -2])
      } finally {
        await box.terminate()
      }
    }
  })

  it('answers -2 to every call while the node says a move is pending, and reports nothing', async () => {
    const box = await AgentSandbox.start({ ...await setup(), observe: { mode: 'record' } }, { budget: 1000n, state: u64Payload(10n), logger: silentLogger })
    try {
      const pending = await box.tick(1000n, null, { movePending: true })
      expect(pending.moveRequest).toBeUndefined()
      expect(answers(await box.checkpoint())).toEqual([-2, -2])
      // Settled (the agent stayed): it may ask again.
      const again = await box.tick(1000n)
      expect(again.moveRequest).toBe(10n)
      expect(answers(await box.checkpoint())).toEqual([0, -2])
    } finally {
      await box.terminate()
    }
  })

  it('answers -1 when the manifest disables migration, pending or not', async () => {
    const box = await AgentSandbox.start({ ...await setup(STAYS), observe: { mode: 'record' } }, { budget: 1000n, state: u64Payload(10n), logger: silentLogger })
    try {
      expect((await box.tick(1000n)).moveRequest).toBeUndefined()
      expect(answers(await box.checkpoint())).toEqual([-1, -1])
      await box.tick(1000n, null, { movePending: true })
      expect(answers(await box.checkpoint())).toEqual([-1, -1])
    } finally {
      await box.terminate()
    }
  })

  it('records id 13 with each answer as u32 LE', async () => {
    const box = await AgentSandbox.start({ ...await setup(), observe: { mode: 'record' } }, { budget: 1000n, state: u64Payload(7n), logger: silentLogger })
    try {
      const tick = await box.tick(1000n)
      expect(tick).toMatchObject({ observations: 2, highestId: 13, recorded: true })
      const entries = decodeEntries((await box.tickRecord())!.log)
      expect(entries.map((e) => [e.hostcallId, Buffer.from(e.payload).toString('hex')])).toEqual([[13, '00000000'], [13, 'feffffff']])
      expect(hostcallName(13)).toBe('request_move')
      expect(HostcallId.RequestMove).toBe(13)
    } finally {
      await box.terminate()
    }
  })

  it('a replay returns the recorded answers, asks the node for nothing and reproduces the state', async () => {
    const base = await setup()
    const live = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, state: u64Payload(7n), logger: silentLogger })
    let record
    try {
      await live.tick(1000n, null, { movePending: true })
      record = (await live.tickRecord())!
    } finally {
      await live.terminate()
    }
    // The replaying sandbox would answer 0 live (no move pending there): the recorded -2s are what it serves.
    const replay = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: record.log } }, { budget: 0n, state: record.pre, logger: silentLogger })
    try {
      const tick = await replay.tick(0n)
      expect(tick.replayFailure ?? null).toBeNull()
      expect(tick.moveRequest).toBeUndefined()
      const state = await replay.checkpoint()
      expect(answers(state)).toEqual([-2, -2])
      expect(Buffer.from(state).equals(Buffer.from(record.post))).toBe(true)
    } finally {
      await replay.terminate()
    }
  })

  it('a replay whose entry is not request_move, or whose payload is not 4 bytes, fails with the reason', async () => {
    const base = await setup()
    const ok = new Uint8Array(4)
    const cases: Array<[Uint8Array, string]> = [
      [encodeEntries([{ hostcallId: HostcallId.NodePrice, payload: u64Payload(5n) }]), 'expected 13 (request_move), got 7 (node_price)'],
      [encodeEntries([{ hostcallId: HostcallId.RequestMove, payload: new Uint8Array(8) }]), 'request_move payload length 8 at position 0, expected 4'],
      [encodeEntries([{ hostcallId: HostcallId.RequestMove, payload: ok }]), 'expected request_move (13)']
    ]
    for (const [log, reason] of cases) {
      const replay = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log } }, { budget: 0n, state: u64Payload(0n), logger: silentLogger })
      try {
        const tick = await replay.tick(0n)
        expect(tick.replayFailure).toContain(reason)
      } finally {
        await replay.terminate()
      }
    }
  })

  it('an agent importing request_move without declaring "mobility" is refused at load, naming the capability', async () => {
    const error = await refusal(prepareAgentModule(await wat(MOVER), { path: 'mover.wasm', manifest: NONE }))
    expect(error.code).toBe('UNDECLARED_CAPABILITY')
    expect(error.message).toContain('imports igor.request_move but the manifest does not declare capability "mobility"')
  })
})
