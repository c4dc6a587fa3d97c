// SPEC §15 `wallet_receipt_count` / `wallet_receipt` (capability `wallet`, ids 5 and 6): the receipts the
// node hands the sandbox, every answer code, recording (6 only on success) and replay.
import { describe, expect, it } from 'vitest'
import { wat } from '@igor/test-kit'
import { silentLogger } from '../logger.js'
import { parseManifest } from '../manifest/manifest.js'
import { decodeEntries, HostcallId, hostcallName } from '../observe/event-log.js'
import { prepareAgentModule } from '../wasm/prepare.js'
import { AgentSandbox } from './agent-sandbox.js'
import type { WorkerSetup } from './messages.js'

const WALLET = parseManifest('{"capabilities": {"wallet": {"version": 1}}}', { source: 'reader.manifest.json' })

/**
 * State at 1024 (220 bytes): index i32, ptr i32, len i32 (the call's arguments), then count i32 and
 * result i32 (what the tick got), then a 200-byte buffer at 1044. Each tick calls both hostcalls.
 */
const READER = `(module
  (import "igor" "wallet_receipt_count" (func $count (result i32)))
  (import "igor" "wallet_receipt" (func $receipt (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i32.store (i32.const 1036) (call $count))
    (i32.store (i32.const 1040) (call $receipt (i32.load (i32.const 1024)) (i32.load (i32.const 1028)) (i32.load (i32.const 1032))))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 220))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 1024))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 1024) (local.get 0) (local.get 1)))
  (func (export "malloc") (param i32) (result i32) (i32.const 4096)))`

async function setup(): Promise<WorkerSetup> {
  const prepared = await prepareAgentModule(await wat(READER), { path: 'reader.wasm', manifest: WALLET })
  return { agentId: 'reader', module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry }
}

const A = new Uint8Array(176).fill(0xaa)
const B = new Uint8Array(10).fill(0xbb)
function blob(items: Uint8Array[]): Uint8Array {
  const out = Buffer.alloc(4 + items.reduce((n, i) => n + 4 + i.length, 0))
  out.writeUInt32LE(items.length, 0)
  let at = 4
  for (const item of items) {
    out.writeUInt32LE(item.length, at)
    out.set(item, at + 4)
    at += 4 + item.length
  }
  return out
}
function state(index: number, ptr: number, len: number): Uint8Array {
  const s = Buffer.alloc(220)
  s.writeInt32LE(index, 0)
  s.writeInt32LE(ptr, 4)
  s.writeInt32LE(len, 8)
  return s
}
const read = (s: Uint8Array): { count: number, result: number, buffer: Buffer } => {
  const b = Buffer.from(s)
  return { count: b.readInt32LE(12), result: b.readInt32LE(16), buffer: b.subarray(20) }
}

describe('wallet_receipt_count / wallet_receipt (SPEC §15)', () => {
  it('every answer: the receipt and its length, −1 for index −1, 2^31−1 and the count, −4 too small or out of bounds', async () => {
    const base = await setup()
    expect(base.capabilities).toEqual(['wallet'])
    const cases: Array<[number, number, number, number]> = [
      [0, 1044, 200, 176], [1, 1044, 10, 10], [-1, 1044, 200, -1], [0x7fffffff, 1044, 200, -1], [2, 1044, 200, -1],
      [0, 1044, 175, -4], [0, 65536 - 100, 200, -4], [1, -1, 10, -4]
    ]
    for (const [index, ptr, len, expected] of cases) {
      const box = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, state: state(index, ptr, len), logger: silentLogger })
      try {
        const tick = await box.tick(1000n, null, { receipts: blob([A, B]) })
        const got = read(await box.checkpoint())
        expect([index, ptr, len, got.count, got.result]).toEqual([index, ptr, len, 2, expected])
        if (expected > 0) expect(got.buffer.subarray(0, expected).equals(Buffer.from(index === 0 ? A : B))).toBe(true)
        // id 5 always; id 6 only on success, with the receipt's bytes.
        const entries = decodeEntries((await box.tickRecord())!.log)
        expect(entries.map((e) => e.hostcallId)).toEqual(expected > 0 ? [5, 6] : [5])
        expect(Buffer.from(entries[0]!.payload).toString('hex')).toBe('02000000')
        if (expected > 0) expect(entries[1]!.payload.byteLength).toBe(expected)
        expect(tick.highestId).toBe(expected > 0 ? 6 : 5)
      } finally {
        await box.terminate()
      }
    }
    expect([hostcallName(HostcallId.WalletReceiptCount), hostcallName(HostcallId.WalletReceipt)]).toEqual(['wallet_receipt_count', 'wallet_receipt'])
  })

  it('no receipts until the node sends some; the last list sent stays', async () => {
    const base = await setup()
    const box = await AgentSandbox.start(base, { budget: 1000n, state: state(0, 1044, 200), logger: silentLogger })
    try {
      await box.tick(1000n)
      expect(read(await box.checkpoint())).toMatchObject({ count: 0, result: -1 })
      const list = blob([B])
      await box.tick(1000n, null, { receipts: list })
      await box.tick(1000n, null, { receipts: list })
      await box.tick(1000n)
      expect(read(await box.checkpoint())).toMatchObject({ count: 1, result: 10 })
    } finally {
      await box.terminate()
    }
  })

  it('a replay serves the recorded count and receipt, whatever the replaying node holds', async () => {
    const base = await setup()
    const live = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, state: state(0, 1044, 200), logger: silentLogger })
    let record
    try {
      await live.tick(1000n, null, { receipts: blob([A, B]) })
      record = (await live.tickRecord())!
    } finally {
      await live.terminate()
    }
    const replay = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: record.log } }, { budget: 0n, state: record.pre, logger: silentLogger })
    try {
      const tick = await replay.tick(0n, null, { receipts: blob([]) })
      expect(tick.replayFailure ?? null).toBeNull()
      expect(Buffer.from(await replay.checkpoint()).equals(Buffer.from(record.post))).toBe(true)
    } finally {
      await replay.terminate()
    }
  })

  it('a replayed failure recorded nothing: −1 for a bad index, −4 out of bounds, and the replay is complete', async () => {
    const base = await setup()
    for (const [index, ptr, len] of [[-1, 1044, 200], [5, 1044, 200], [0, 65536 - 100, 200]] as const) {
      const live = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: 1000n, state: state(index, ptr, len), logger: silentLogger })
      let record
      try {
        await live.tick(1000n, null, { receipts: blob([A]) })
        record = (await live.tickRecord())!
      } finally {
        await live.terminate()
      }
      const replay = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: record.log } }, { budget: 0n, state: record.pre, logger: silentLogger })
      try {
        const tick = await replay.tick(0n)
        expect(tick.replayFailure ?? null).toBeNull()
        expect(Buffer.from(await replay.checkpoint()).equals(Buffer.from(record.post))).toBe(true)
      } finally {
        await replay.terminate()
      }
    }
  })
})
