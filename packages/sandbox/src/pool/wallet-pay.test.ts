// SPEC §15 `wallet_pay` through a real worker: the worker's rows of the order (−2, −6 out of bounds, −6
// amount), the node's rows answered across the bridge (−5 hint written), success 159 with the vector
// bytes written and id 9 recorded, −6 when not the live owner, nothing charged on any negative answer,
// and a replay of id 9 and of a refusal (id 14).
import { describe, expect, it } from 'vitest'
import { wat } from '@igor/test-kit'
import { silentLogger } from '../logger.js'
import { parseManifest } from '../manifest/manifest.js'
import { performWalletPay } from '../effects/wallet-pay.js'
import { TEST1_AGENT, VECTOR_TS, WALLET_PAY_VECTOR } from '../effects/wallet-pay.test-helper.js'
import { decodeEntries, encodeEntries, HostcallId } from '../observe/event-log.js'
import { prepareAgentModule } from '../wasm/prepare.js'
import { AgentSandbox } from './agent-sandbox.js'
import type { WorkerSetup } from './messages.js'

const MANIFEST = parseManifest(
  '{"capabilities": {"wallet": {"version": 1}, "x402": {"version": 1, "options": {"allowed_recipients": ["paywall-provider"], "max_payment_microcents": 200000}}}}',
  { source: 'payer.manifest.json' }
)

/**
 * State = the first 4096 bytes of memory: the call's arguments at 0 (amount i64, then recipient ptr/len,
 * memo ptr/len, receipt ptr/cap as i32), the answer at 32, wallet_balance after the call at 40.
 */
const PAYER = `(module
  (import "igor" "wallet_pay" (func $pay (param i64 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "igor" "wallet_balance" (func $balance (result i64)))
  (memory (export "memory") 1)
  (func (export "agent_init"))
  (func (export "agent_tick") (result i32)
    (i32.store (i32.const 32) (call $pay (i64.load (i32.const 0)) (i32.load (i32.const 8)) (i32.load (i32.const 12))
      (i32.load (i32.const 16)) (i32.load (i32.const 20)) (i32.load (i32.const 24)) (i32.load (i32.const 28))))
    (i64.store (i32.const 40) (call $balance))
    (i32.const 0))
  (func (export "agent_checkpoint") (result i32) (i32.const 4096))
  (func (export "agent_checkpoint_ptr") (result i32) (i32.const 0))
  (func (export "agent_resume") (param i32 i32) (memory.copy (i32.const 0) (local.get 0) (local.get 1)))
  (func (export "malloc") (param i32) (result i32) (i32.const 8192)))`

const RECIPIENT_AT = 512
const MEMO_AT = 1024
const RECEIPT_AT = 2048

interface Args { amount: bigint, recipient: string, memo: string, rPtr?: number, rLen?: number, mPtr?: number, mLen?: number, receiptPtr?: number, receiptCap: number }

function stateFor(args: Args): Uint8Array {
  const state = new Uint8Array(4096)
  const view = new DataView(state.buffer)
  const recipient = new TextEncoder().encode(args.recipient)
  const memo = new TextEncoder().encode(args.memo)
  state.set(recipient.subarray(0, 500), RECIPIENT_AT)
  state.set(memo.subarray(0, 1000), MEMO_AT)
  view.setBigInt64(0, args.amount, true)
  view.setUint32(8, args.rPtr ?? RECIPIENT_AT, true)
  view.setUint32(12, args.rLen ?? recipient.byteLength, true)
  view.setUint32(16, args.mPtr ?? MEMO_AT, true)
  view.setUint32(20, args.mLen ?? memo.byteLength, true)
  view.setUint32(24, args.receiptPtr ?? RECEIPT_AT, true)
  view.setUint32(28, args.receiptCap, true)
  view.setInt32(32, 12345, true) // overwritten by the answer
  return state
}

const GOOD: Args = { amount: 100_000n, recipient: 'paywall-provider', memo: 'premium-data-access', receiptCap: 159 }

async function setup(): Promise<WorkerSetup> {
  const prepared = await prepareAgentModule(await wat(PAYER), { path: 'payer.wasm', manifest: MANIFEST })
  return { agentId: 'payer', module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry }
}

interface Outcome { answer: number, balance: bigint, memory: Uint8Array, charged: bigint[], log: Uint8Array | null, pre: Uint8Array | null, post: Uint8Array | null }

async function pay(args: Args, node: { owner?: boolean, budget?: bigint, handler?: boolean } = {}): Promise<Outcome> {
  const base = await setup()
  const box = await AgentSandbox.start({ ...base, observe: { mode: 'record' } }, { budget: node.budget ?? 1_000_000n, state: stateFor(args), logger: silentLogger })
  const charged: bigint[] = []
  let budget = node.budget ?? 1_000_000n
  if (node.handler !== false) {
    box.setWalletPayHandler((call) => performWalletPay(call, {
      options: MANIFEST.x402!, isOwner: () => node.owner ?? true, budget: () => budget, signer: TEST1_AGENT, nowNs: () => VECTOR_TS,
      paid: (amount) => { budget -= amount; charged.push(amount) }
    }))
  }
  try {
    await box.tick(node.budget ?? 1_000_000n)
    const memory = await box.checkpoint()
    const view = new DataView(memory.buffer, memory.byteOffset)
    const record = await box.tickRecord()
    return { answer: view.getInt32(32, true), balance: view.getBigInt64(40, true), memory, charged, log: record?.log ?? null, pre: record?.pre ?? null, post: record?.post ?? null }
  } finally {
    await box.terminate()
  }
}

const hexAt = (memory: Uint8Array, at: number, length: number): string => Buffer.from(memory.subarray(at, at + length)).toString('hex')

describe('wallet_pay in the sandbox (SPEC §15)', () => {
  it('success: returns 159, writes [155 u32][the vector receipt], balance lowered in the same tick, id 9 recorded', async () => {
    const out = await pay(GOOD)
    expect(out.answer).toBe(159)
    expect(hexAt(out.memory, RECEIPT_AT, 4)).toBe('9b000000')
    expect(hexAt(out.memory, RECEIPT_AT + 4, 155)).toBe(WALLET_PAY_VECTOR)
    expect(out.charged).toEqual([100_000n])
    expect(out.balance).toBe(900_000n)
    const entries = decodeEntries(out.log!)
    expect(entries.map((e) => e.hostcallId)).toEqual([HostcallId.WalletPay, HostcallId.WalletBalance])
    expect(Buffer.from(entries[0]!.payload).toString('hex')).toBe(`a086010000000000${WALLET_PAY_VECTOR}`)
  })

  const rows: Array<[string, Args, { owner?: boolean, budget?: bigint, handler?: boolean }, number]> = [
    ['recipient_len 257 → −2', { ...GOOD, rLen: 257 }, {}, -2],
    ['memo_len 513 → −2', { ...GOOD, mLen: 513 }, {}, -2],
    ['recipient_len 2^32−1 → −2', { ...GOOD, rLen: 0xffff_ffff }, {}, -2],
    ['recipient out of bounds → −6', { ...GOOD, rPtr: 65_530 }, {}, -6],
    ['memo out of bounds → −6', { ...GOOD, mPtr: 0xffff_fff0 }, {}, -6],
    ['receipt buffer out of bounds → −6 (checked before anything is charged)', { ...GOOD, receiptPtr: 65_500 }, {}, -6],
    ['amount 0 → −6', { ...GOOD, amount: 0n }, {}, -6],
    ['amount −2^63 → −6', { ...GOOD, amount: -(1n << 63n) }, {}, -6],
    ['amount over max → −4', { ...GOOD, amount: 200_001n }, {}, -4],
    ['recipient not allowed → −3', { ...GOOD, recipient: 'mallory' }, {}, -3],
    ['not the live owner → −6', GOOD, { owner: false }, -6],
    ['budget below the amount → −1', GOOD, { budget: 99_999n }, -1],
    ['no node handler → −1', GOOD, { handler: false }, -1]
  ]
  for (const [name, args, node, code] of rows) {
    it(`${name}; nothing charged, nothing written, the refusal recorded as id 14`, async () => {
      const out = await pay(args, node)
      expect(out.answer).toBe(code)
      expect(out.charged).toEqual([])
      expect(out.balance).toBe(node.budget ?? 1_000_000n)
      expect(hexAt(out.memory, RECEIPT_AT, 8)).toBe('0000000000000000')
      const entries = decodeEntries(out.log!)
      expect(entries[0]).toEqual({ hostcallId: HostcallId.WalletPayFailure, payload: new Uint8Array(new Int32Array([code]).buffer) })
    })
  }

  it('receipt_cap 158 → −5 with the hint 155 at receipt_ptr; cap 3 → −5 and nothing written', async () => {
    const out = await pay({ ...GOOD, receiptCap: 158 })
    expect(out.answer).toBe(-5)
    expect(hexAt(out.memory, RECEIPT_AT, 8)).toBe('9b00000000000000')
    expect(out.charged).toEqual([])
    expect(Buffer.from(decodeEntries(out.log!)[0]!.payload).toString('hex')).toBe('fbffffff9b000000')
    const small = await pay({ ...GOOD, receiptCap: 3 })
    expect(small.answer).toBe(-5)
    expect(hexAt(small.memory, RECEIPT_AT, 4)).toBe('00000000')
  })

  it('a replay serves id 9: the recorded answer and bytes, nothing paid', async () => {
    const live = await pay(GOOD)
    const base = await setup()
    const replay = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: live.log! } }, { budget: 0n, state: live.pre!, logger: silentLogger })
    let paid = 0
    replay.setWalletPayHandler(() => { paid++; return { ok: false, code: -1 } })
    try {
      const tick = await replay.tick(0n)
      expect(tick.replayFailure ?? null).toBeNull()
      expect(Buffer.from(await replay.checkpoint()).equals(Buffer.from(live.post!))).toBe(true)
      expect(paid).toBe(0)
    } finally {
      await replay.terminate()
    }
  })

  it('a replay serves a recorded refusal (id 14) with its hint, and fails on a different amount', async () => {
    const live = await pay({ ...GOOD, receiptCap: 158 })
    const base = await setup()
    const replay = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: live.log! } }, { budget: 0n, state: live.pre!, logger: silentLogger })
    try {
      expect((await replay.tick(0n)).replayFailure ?? null).toBeNull()
      expect(Buffer.from(await replay.checkpoint()).equals(Buffer.from(live.post!))).toBe(true)
    } finally {
      await replay.terminate()
    }
    const ok = await pay(GOOD)
    const wrong = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: ok.log! } }, { budget: 0n, state: stateFor({ ...GOOD, amount: 5n }), logger: silentLogger })
    try {
      expect((await wrong.tick(0n)).replayFailure).toContain('wallet_pay amount 5, recorded 100000')
    } finally {
      await wrong.terminate()
    }
    const empty = await AgentSandbox.start({ ...base, observe: { mode: 'replay', log: encodeEntries([]) } }, { budget: 0n, state: stateFor(GOOD), logger: silentLogger })
    try {
      // A reference log records only successes: no entry → −1, consuming nothing; then wallet_balance is missing.
      expect((await empty.tick(0n)).replayFailure).toContain('wallet_balance')
    } finally {
      await empty.terminate()
    }
  })
})
