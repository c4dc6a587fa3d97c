// The x402buyer demo (SPEC §15 wallet_pay, §13 EffectLog) through the SDK's test host against the
// paywall's own rules (scripts/paywall-server.mjs `readReceipt`): one payment per item, also when the
// agent restarts from a checkpoint taken before its payment (a node killed before the next checkpoint)
// or after a payment whose receipt never reached the paywall.
import { describe, expect, it } from 'vitest'
import { loadAgent } from '@igor/sdk/test-host'
import type { HttpReply, HttpRequest } from '@igor/sdk/test-host'
import { readReceipt } from '../scripts/paywall-server.mjs'
import { agentPath } from '../index.js'

const PRICE = 100_000n

/** The paywall's behaviour, synchronous for the test host. */
class Paywall {
  /** item → receipts taken (hex). */
  readonly paid = new Map<number, Set<string>>()
  dropPays = false
  readonly handler = (req: HttpRequest): HttpReply | number => {
    const match = /^http:\/\/127\.0\.0\.1:\d+\/items\/(\d+)(\/status|\/pay)?$/.exec(req.url)
    if (match === null) return { status: 404, body: '{}' }
    const item = Number(match[1])
    if (match[2] === undefined) {
      return this.paid.has(item)
        ? { status: 200, body: `{"item":${item},"data":"x"}` }
        : { status: 402, body: `{"amount":${PRICE},"recipient":"paywall-provider","memo":"item-${item}"}` }
    }
    if (match[2] === '/status') return { status: 200, body: `{"item":${item},"paid":${this.paid.has(item)}}` }
    if (this.dropPays) return -1
    const hex = new TextDecoder().decode(req.body)
    const r = readReceipt(Buffer.from(hex, 'hex'))
    if (r.error !== undefined || r.memo !== `item-${item}` || r.amount !== PRICE) return { status: 400, body: '{}' }
    if (!this.paid.has(item)) this.paid.set(item, new Set())
    this.paid.get(item)!.add(hex)
    return { status: 200, body: `{"item":${item},"data":"x"}` }
  }

  receipts(): number {
    return [...this.paid.values()].reduce((n, s) => n + s.size, 0)
  }
}

function start(paywall: Paywall): ReturnType<typeof loadAgent> {
  const agent = loadAgent(agentPath('x402buyer'), { agentId: 'buyer', http: paywall.handler, balance: 10_000_000n })
  agent.init()
  return agent
}

describe('x402buyer', () => {
  it('buys item after item, one payment each, the budget lowered by each', () => {
    const paywall = new Paywall()
    const agent = start(paywall)
    agent.ticks(30)
    const items = paywall.paid.size
    expect(items).toBeGreaterThanOrEqual(4)
    expect(paywall.receipts()).toBe(items)
    expect(agent.payments).toHaveLength(items)
    expect(agent.balance).toBe(10_000_000n - PRICE * BigInt(items))
    expect(agent.logs).toContain('[x402buyer] tick=1 item 1: 402, 100000 to paywall-provider; recorded')
    expect(agent.logs.some((l) => /got item 1 \(bought\), 1 items, paid 100000/.test(l))).toBe(true)
  })

  it('restarted from a checkpoint before its payment (killed before the next one): asks the paywall, never pays twice', () => {
    const paywall = new Paywall()
    const agent = start(paywall)
    agent.ticks(3) // item 1 recorded at tick 1, paid at tick 4 (WAIT 3)
    const before = agent.checkpoint()
    const tickBefore = agent.tickNumber
    agent.ticks(2) // pays for item 1 and delivers the receipt
    expect(paywall.receipts()).toBe(1)
    const again = agent.restart(before, tickBefore)
    again.ticks(30)
    for (const receipts of paywall.paid.values()) expect(receipts.size).toBe(1)
    expect(again.logs.some((l) => l.includes('got item 1 (paid before a crash)'))).toBe(true)
  })

  it('a receipt that never reached the paywall is POSTed again after a restart, not paid again', () => {
    const paywall = new Paywall()
    const agent = start(paywall)
    agent.ticks(3)
    paywall.dropPays = true
    agent.tick() // pays; the POST fails; the intent stays InFlight with the receipt kept
    const crashed = agent.checkpoint()
    expect(agent.payments).toHaveLength(1)
    paywall.dropPays = false
    const again = agent.restart(crashed)
    again.ticks(20)
    expect(paywall.paid.get(1)?.size).toBe(1)
    expect([...paywall.paid.get(1)!][0]).toBe(Buffer.from(agent.payments[0]!).toString('hex'))
    for (const receipts of paywall.paid.values()) expect(receipts.size).toBe(1)
    expect(again.payments.length).toBe(paywall.receipts())
  })
})
