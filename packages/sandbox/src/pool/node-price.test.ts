// SPEC §15 "Node price": capability `pricing`, `node_price() → i64`, observation id 7 (u64 LE), replayable (SPEC §12).
import { describe, expect, it } from 'vitest'
import { refusal, wat } from '@igor/test-kit'
import { silentLogger } from '../logger.js'
import { parseManifest } from '../manifest/manifest.js'
import { decodeEntries, encodeEntries, HostcallId, hostcallName, u64Payload } from '../observe/event-log.js'
import { prepareAgentModule } from '../wasm/prepare.js'
import { AgentSandbox } from './agent-sandbox.js'
import type { WorkerSetup } from './messages.js'

const PRICING = parseManifest('{"capabilities": {"pricing": {"version": 1}}}', { source: 'pricer.manifest.json' })
const NONE = parseManifest('{"capabilities": {"clock": {"version": 1}}}', { source: 'pricer.manifest.json' })

/** State: the last price seen (i64 at 1024). Every tick stores node_price(); agent_init calls it too (outside the state). */
const PRICER = `(module
  (import "igor" "node_price" (func $price (result i64)))
  (memory (export "memory") 1)
  (func (export "agent_init") (i64.store (i32.const 1032) (call $price)))
  (func (export "agent_tick") (result i32) (i64.store (i32.const 1024) (call $price)) (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 8))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (i64.store (i32.const 1024) (i64.load (local.get 0))))
  (func (export "malloc") (param i32) (result i32) (i32.const 2048)))`

const I64_MAX = (1n << 63n) - 1n

async function setup(manifest = PRICING): Promise<WorkerSetup> {
  const prepared = await prepareAgentModule(await wat(PRICER), { path: 'pricer.wasm', manifest })
  return { agentId: 'pricer', module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry }
}

const stateOf = (bytes: Uint8Array): bigint => new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true)
const le = (value: bigint): string => Buffer.from(u64Payload(value)).toString('hex')

describe('node_price (SPEC §15)', () => {
  it('is linked when "pricing" is declared and answers the price sent with each tick', async () => {
    const base = await setup()
    expect(base.capabilities).toEqual(['pricing'])
    const box = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, price: 1500n, state: null, logger: silentLogger })
    try {
      for (const price of [2500n, 0n, (1n << 53n) + 1n, I64_MAX]) {
        await box.tick(1000n, null, { price })
        expect(stateOf(await box.checkpoint())).toBe(price)
      }
      // A tick without a price keeps the last one the worker was sent.
      await box.tick(1000n)
      expect(stateOf(await box.checkpoint())).toBe(I64_MAX)
    } finally {
      await box.terminate()
    }
  })

  it('the price given at start is served until a tick sends another; agent_init\'s call is not recorded', async () => {
    const base = await setup()
    const box = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, price: 1500n, state: null, logger: silentLogger })
    try {
      await box.tick(1000n)
      expect(stateOf(await box.checkpoint())).toBe(1500n)
      const record = await box.tickRecord()
      expect(record).not.toBeNull()
      expect(decodeEntries(record!.log).map((e) => e.hostcallId)).toEqual([HostcallId.NodePrice]) // agent_init's call left nothing
    } finally {
      await box.terminate()
    }
  })

  it('records id 7 with the price as u64 LE', async () => {
    const base = await setup()
    const box = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, price: 1n, state: null, logger: silentLogger })
    try {
      const tick = await box.tick(1000n, null, { price: (1n << 53n) + 1n })
      expect(tick).toMatchObject({ observations: 1, highestId: 7, recorded: true })
      const record = await box.tickRecord()
      const entries = decodeEntries(record!.log)
      expect(entries).toHaveLength(1)
      expect(entries[0]!.hostcallId).toBe(7)
      expect(Buffer.from(entries[0]!.payload).toString('hex')).toBe('0100000000002000')
      expect(hostcallName(7)).toBe('node_price')
      expect(stateOf(record!.post)).toBe((1n << 53n) + 1n)
    } finally {
      await box.terminate()
    }
  })

  it('a replay returns the recorded value; the replaying node\'s own price does not matter', async () => {
    const base = await setup()
    const live = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, price: 1000n, state: null, logger: silentLogger })
    let record
    try {
      await live.tick(1000n, null, { price: 2500n })
      record = (await live.tickRecord())!
    } finally {
      await live.terminate()
    }
    const replay = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: record.log } }, { budget: 0n, price: 999n, state: record.pre, logger: silentLogger })
    try {
      const tick = await replay.tick(0n, null, { price: 7n })
      expect(tick.replayFailure ?? null).toBeNull()
      const state = await replay.checkpoint()
      expect(stateOf(state)).toBe(2500n)
      expect(Buffer.from(state).equals(Buffer.from(record.post))).toBe(true)
    } finally {
      await replay.terminate()
    }
  })

  it('a replay whose entry is not node_price, or whose payload is not 8 bytes, fails with the reason', async () => {
    const base = await setup()
    const cases: Array<[Uint8Array, string]> = [
      [encodeEntries([{ hostcallId: HostcallId.WalletBalance, payload: u64Payload(5n) }]), 'expected 7 (node_price), got 4 (wallet_balance)'],
      [encodeEntries([{ hostcallId: HostcallId.NodePrice, payload: new Uint8Array(4) }]), 'node_price payload length 4 at position 0, expected 8'],
      [encodeEntries([]), 'expected node_price (7)']
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

  it('u64 LE payload of the extremes', () => {
    expect(le(0n)).toBe('0000000000000000')
    expect(le(I64_MAX)).toBe('ffffffffffffff7f')
    expect(le((1n << 64n) - 1n)).toBe('ffffffffffffffff')
  })

  it('an agent importing node_price without declaring "pricing" is refused at load, naming the capability', async () => {
    const error = await refusal(prepareAgentModule(await wat(PRICER), { path: 'pricer.wasm', manifest: NONE }))
    expect(error.code).toBe('UNDECLARED_CAPABILITY')
    expect(error.message).toContain('imports igor.node_price but the manifest does not declare capability "pricing"')
  })

  it('the manifest accepts "pricing": {"version": 1} and refuses version 2', () => {
    expect(PRICING.capabilities.get('pricing')).toEqual({ version: 1 })
    expect(() => parseManifest('{"capabilities": {"pricing": {"version": 2}}}', { source: 'm.json' }))
      .toThrow('capabilities.pricing.version 2 is not supported (this node provides version 1)')
  })
})
