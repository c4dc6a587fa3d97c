// SPEC §15 `walletPay()` in the SDK through the test host: the −5 retry with a buffer that fits, the
// §15 vector receipt (test-1 key, fixed time), ids 9 and 14, the budget lowered only on success, −3 for
// a recipient not allowed and −6 when the host is not the live owner.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildAgent } from '../src/build.js'
import { HOSTCALL, loadAgent, toHex } from '../src/test-host.js'
import type { ManifestJson } from '../src/test-host.js'

const here = import.meta.dirname
let out = ''
const manifest: ManifestJson = {
  capabilities: { log: { version: 1 }, x402: { version: 1, options: { allowed_recipients: ['paywall-provider'], max_payment_microcents: 200000 } } }
}
const VECTOR =
  'a08601000000000015cd853dfe9c97171000000070617977616c6c2d70726f7669646572130000007072656d69756d2d646174612d616363657373d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511abe20726282c1947e5f66101ad3524d9666fad5334546ac354002d84ba466a4621cf1e4c30107728fd6ec28d0a900c4a82b30a961d43cd598e460b12ee2600d02'

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'igor-sdk-pay-'))
  await buildAgent({ cwd: here, entry: 'agents/payer.ts', outFile: join(out, 'payer.wasm'), manifest })
}, 120_000)
afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('walletPay() (SPEC §15)', () => {
  it('retries a −5 once with a buffer that fits and returns the §15 vector receipt; ids 14 then 9 recorded', () => {
    const agent = loadAgent(join(out, 'payer.wasm'), { manifest, balance: 1_000_000n, paymentTimeNs: () => 1_700_000_000_123_456_789n })
    agent.init()
    const t = agent.tick()
    expect(t.logs).toEqual([`paid 155 ${VECTOR}`, 'mallory -3'])
    expect(agent.balance).toBe(900_000n)
    expect(agent.payments.map(toHex)).toEqual([VECTOR])
    const pay = t.observations.filter((o) => o.id !== HOSTCALL.log)
    expect(pay.map((o) => [o.id, toHex(o.payload)])).toEqual([
      [14, 'fbffffff9b000000'],
      [9, `a086010000000000${VECTOR}`],
      [14, 'fdffffff']
    ])
  })

  it('not the live owner: −6, nothing paid; a budget below the amount: −1', () => {
    const agent = loadAgent(join(out, 'payer.wasm'), { manifest, balance: 1_000_000n })
    agent.init()
    agent.owner = false
    expect(agent.tick().logs).toEqual(['error -6', 'mallory -3'])
    agent.owner = true
    agent.balance = 99_999n
    expect(agent.tick().logs).toEqual(['error -1', 'mallory -3'])
    expect(agent.balance).toBe(99_999n)
    expect(agent.payments).toEqual([])
  })

  it('an agent that pays without "x402" in its manifest is refused, naming the capability', () => {
    expect(() => loadAgent(join(out, 'payer.wasm'), { manifest: { capabilities: { log: { version: 1 } } } }))
      .toThrow(/igor\.wallet_pay but its manifest does not declare the "x402" capability/)
  })
})
