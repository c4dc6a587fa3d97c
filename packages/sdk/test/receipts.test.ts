// SPEC §15 `receipts()` in the SDK: the agent decodes what `wallet_receipt` serves, through the test host
// (ids 5 and 6 recorded like the node: 6 only on success). The receipt bytes are the §15 vector's.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildAgent } from '../src/build.js'
import { HOSTCALL, loadAgent, toHex } from '../src/test-host.js'
import type { ManifestJson } from '../src/test-host.js'

const here = import.meta.dirname
let out = ''
const manifest: ManifestJson = { capabilities: { log: { version: 1 }, wallet: { version: 1 } } }

// SPEC §15 vector: agent survivor, ticks 1…5, cost 5000, budget after 995000, signed by the test-1 key's node.
const SIGN_DATA = '080000007375727669766f7234000000313244334b6f6f57514b31776e65666f4c7263564862626e6635744c7a626f705564334b336246416f4a704137594a674c357056010000000000000005000000000000008813000000000000b82e0f000000000015cd853dfe9c9717'
const SIGNATURE = '32fd6653ccf5ebfef3cb68c9c30cb4f98fffb7525ad2d799a0ef1d82a47fcf5d6107592ed4c24af879ed1d26daa4165e1eaa0164ce037f4d59ed300bb7291703'
const RECEIPT = Buffer.from(`${SIGN_DATA}40000000${SIGNATURE}`, 'hex')
const NODE = '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV'

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'igor-sdk-receipts-'))
  await buildAgent({ cwd: here, entry: 'agents/receipts.ts', outFile: join(out, 'receipts.wasm'), manifest })
}, 120_000)
afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('receipts() (SPEC §15)', () => {
  it('decodes every receipt the host serves, oldest first; −1 indexes give null; ids 5 and 6 recorded', () => {
    expect(RECEIPT.length).toBe(176)
    const agent = loadAgent(join(out, 'receipts.wasm'), { manifest })
    agent.init()
    const empty = agent.tick()
    expect(empty.logs).toEqual(['bad index null null'])
    expect(empty.observations.filter((o) => o.id !== HOSTCALL.log).map((o) => [o.id, toHex(o.payload)])).toEqual([[HOSTCALL.receiptCount, '00000000']])

    agent.receipts = [RECEIPT, RECEIPT]
    const t = agent.tick()
    expect(t.logs).toEqual([
      `${NODE} 1-5 cost 5000 left 995000 at 1700000000123456789 sig 64`,
      `${NODE} 1-5 cost 5000 left 995000 at 1700000000123456789 sig 64`,
      'bad index null null'
    ])
    const wallet = t.observations.filter((o) => o.id !== HOSTCALL.log)
    expect(wallet.map((o) => o.id)).toEqual([5, 6, 6])
    expect(toHex(wallet[1]!.payload)).toBe(RECEIPT.toString('hex'))
    expect([HOSTCALL.receiptCount, HOSTCALL.receipt]).toEqual([5, 6])
  })

  it('refuses an agent that reads receipts without "wallet" in its manifest, naming the capability', () => {
    expect(() => loadAgent(join(out, 'receipts.wasm'), { manifest: { capabilities: { log: { version: 1 } } } }))
      .toThrow(/the agent imports igor\.wallet_receipt(_count)? but its manifest does not declare the "wallet" capability/)
  })
})
