// The demo agents on @igor/sdk (SPEC §13), run through the SDK's test host.
import { describe, expect, it } from 'vitest'
import { loadAgent, toHex } from '@igor/sdk/test-host'
import type { HttpReply, HttpRequest } from '@igor/sdk/test-host'
import { agentPath } from '../index.js'

const PRICES = '{"bitcoin":{"usd":83456.78},"ethereum":{"usd":1923.45}}'

function u64(state: Uint8Array, offset: number): bigint {
  return new DataView(state.buffer, state.byteOffset).getBigUint64(offset, true)
}

describe('heartbeat', () => {
  it('reaches the SPEC §13 28-byte state vector after 42 ticks, with a milestone every 10', () => {
    const agent = loadAgent(agentPath('heartbeat'), { clockStartNs: 1_700_000_000_000_000_000n })
    agent.init()
    agent.ticks(42)
    expect(toHex(agent.checkpoint())).toBe('2a0000000000000000002a36fe9c9717005af4c1079d971704000000')
    expect(agent.logs[0]).toBe('[heartbeat] tick=1 age=0s')
    expect(agent.logs).toContain('[heartbeat] MILESTONE #1: survived 10 ticks across 9s')
    expect(agent.logs.filter((l) => l.includes('MILESTONE'))).toHaveLength(4)
  })

  it('keeps its birth time and count across a restart', () => {
    const agent = loadAgent(agentPath('heartbeat'))
    agent.init()
    agent.ticks(5)
    const again = agent.restart()
    expect(again.tick().logs).toEqual(['[heartbeat] tick=6 age=5s'])
  })
})

describe('pricewatcher', () => {
  it('fetches on tick 1 and every 10th tick, keeping latest/high/low in cents', () => {
    const prices = [PRICES, '{"bitcoin":{"usd":90000.5},"ethereum":{"usd":1800}}', '{"bitcoin":{"usd":80000},"ethereum":{"usd":2000.129}}']
    let served = 0
    const agent = loadAgent(agentPath('pricewatcher'), {
      agentId: 'pw',
      http: () => ({ status: 200, body: prices[served++]! })
    })
    agent.init()
    agent.ticks(29)
    expect(agent.requests.map((r) => `${r.method} ${r.url} ${r.idempotencyKey}`)).toEqual([
      'GET http://127.0.0.1:8787/prices pw:1:0',
      'GET http://127.0.0.1:8787/prices pw:10:0',
      'GET http://127.0.0.1:8787/prices pw:20:0'
    ])
    const state = agent.checkpoint()
    expect(state.length).toBe(80)
    expect([24, 32, 40, 48, 56, 64].map((o) => u64(state, o))).toEqual([8000000n, 9000050n, 8000000n, 200012n, 200012n, 180000n])
    expect(agent.logs.find((l) => l.startsWith('[pricewatcher] tick=1 '))).toContain('FETCH | BTC=$83456.78')
    // a restart keeps everything; a refused request (not the owner) counts as an error and changes nothing else
    const again = agent.restart()
    again.owner = false
    again.ticks(11)
    const after = again.checkpoint()
    expect(u64(after, 0)).toBe(40n)
    expect(toHex(after.slice(24, 72))).toBe(toHex(state.slice(24, 72)))
    expect(again.logs.at(-1)).toBe('[pricewatcher] tick=40 ERROR: http failed: code -6 (errors=2)')
    expect(agent.requests).toHaveLength(3)
  })
})

/** A payments API like agents/scripts/demo-server.mjs, in-process. */
class Payments {
  readonly payments = new Map<string, { amount: number, status: 'pending' | 'settled' }>()
  readonly replies = new Map<string, HttpReply>()
  posts = 0
  dropPosts = false
  handler = (req: HttpRequest): HttpReply | number => {
    if (req.method === 'POST') {
      if (this.dropPosts) return -1
      this.posts++
      const seen = this.replies.get(req.idempotencyKey)
      if (seen !== undefined) return seen // a repeat of an effect: answered, not performed
      const { id, amount } = JSON.parse(new TextDecoder().decode(req.body)) as { id: string, amount: number }
      const reply: HttpReply = this.payments.has(id) ? { status: 409, body: '{}' } : { status: 202, body: '{}' }
      if (!this.payments.has(id)) this.payments.set(id, { amount, status: 'pending' })
      this.replies.set(req.idempotencyKey, reply)
      return reply
    }
    const id = req.url.split('/').at(-1)!
    const payment = this.payments.get(id)
    return payment === undefined ? { status: 404, body: '{}' } : { status: 200, body: JSON.stringify({ id, status: payment.status }) }
  }

  settleAll(): void {
    for (const p of this.payments.values()) p.status = 'settled'
  }
}

describe('treasury', () => {
  function start(server: Payments): ReturnType<typeof loadAgent> {
    const agent = loadAgent(agentPath('treasury'), { agentId: 'tr', http: server.handler })
    agent.init()
    return agent
  }

  it('records, waits, POSTs once, and confirms when the payment settles', () => {
    const server = new Payments()
    const agent = start(server)
    agent.ticks(15)
    expect(server.posts).toBe(0) // recorded at tick 10, not sent yet
    agent.tick()
    expect(agent.requests.at(-1)).toMatchObject({ method: 'POST', idempotencyKey: 'tr:16:0' })
    agent.ticks(2)
    server.settleAll()
    agent.tick()
    expect(agent.logs.at(-1)).toBe('[treasury] tick=19 confirmed pay-1: settled, paid 100 cents in 1 payments')
    expect(server.posts).toBe(1)
  })

  it('killed between begin and confirm: reconciles the Unresolved intent from the server, no second payment', () => {
    const server = new Payments()
    const agent = start(server)
    agent.ticks(17) // POST at 16, pending at 17
    const crashed = agent.checkpoint() // holds pay-1 InFlight
    server.settleAll()
    const again = agent.restart(crashed)
    again.tick()
    expect(again.logs.at(-1)).toBe('[treasury] tick=18 reconciled pay-1: settled, paid 100 cents in 1 payments')
    for (let i = 0; i < 60; i++) {
      again.tick()
      server.settleAll()
    }
    expect(server.posts).toBe(3)
    expect(again.logs.at(-1)).toContain('paid 300 cents in 3 payments')
    expect([...server.payments.keys()]).toEqual(['pay-1', 'pay-2', 'pay-3'])
  })

  it('restore is not resume (SPEC §12): a replay restores an InFlight intent as it was, a restart applies the resume rule', () => {
    const server = new Payments()
    const agent = start(server)
    agent.ticks(17) // POST at 16, pending at 17: pay-1 InFlight in the state
    const state = agent.checkpoint()
    expect(state[32]).toBe(2) // the EffectLog's first intent: InFlight
    expect(agent.replayFrom(state).checkpoint()).toEqual(state)
    expect(agent.restart(state).checkpoint()[32]).toBe(4) // Unresolved
  })

  it('a POST that never arrived is compensated and sent again, once', () => {
    const server = new Payments()
    const agent = start(server)
    server.dropPosts = true
    agent.ticks(16)
    const crashed = agent.checkpoint()
    server.dropPosts = false
    const again = agent.restart(crashed)
    again.tick()
    expect(again.logs.at(-1)).toBe('[treasury] tick=17 reconciled pay-1: never arrived, recorded again')
    again.ticks(6) // sent again at tick 23
    server.settleAll()
    again.tick()
    expect(server.posts).toBe(1)
    expect(server.payments.get('pay-1')?.status).toBe('settled')
  })

  it('a tick re-executed after a crash repeats its POST with the same Idempotency-Key', () => {
    const server = new Payments()
    const agent = start(server)
    agent.ticks(15)
    const beforePost = agent.checkpoint() // pay-1 Recorded
    agent.tick() // POST tr:16:0 … then the node dies before its next checkpoint
    const again = agent.restart(beforePost, 15n)
    again.tick()
    const keys = again.requests.filter((r) => r.method === 'POST').map((r) => r.idempotencyKey)
    expect(keys).toEqual(['tr:16:0', 'tr:16:0'])
    expect(server.payments.size).toBe(1)
  })
})

describe('nomad (SPEC §16 "The agent decides")', () => {
  const stateOf = (state: Uint8Array): { ticks: bigint, price: bigint, asked: number, answer: number } => {
    const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
    return { ticks: view.getBigUint64(0, true), price: view.getBigInt64(8, true), asked: view.getUint32(16, true), answer: view.getInt32(20, true) }
  }

  it('stays while the price is at or below its threshold, asks to move above it, and sees -2 while the move is pending', () => {
    const agent = loadAgent(agentPath('nomad'), { price: 2000n })
    agent.init()
    expect(agent.tick()).toMatchObject({ logs: ['[nomad] tick=1 price=2000 threshold=2000 move=stay'] })
    agent.price = 5000n
    const asked = agent.tick()
    expect(asked.logs).toEqual(['[nomad] tick=2 price=5000 threshold=2000 move=asked'])
    expect(asked.moveRequest).toBe(2000n)
    expect(asked.observations.map((o) => o.id)).toEqual([7, 13, 3])
    expect(agent.tick().logs).toEqual(['[nomad] tick=3 price=5000 threshold=2000 move=pending'])
    // The node found nobody cheaper: the agent stayed and may ask again.
    agent.movePending = false
    expect(agent.tick().moveRequest).toBe(2000n)
    expect(stateOf(agent.checkpoint())).toEqual({ ticks: 4n, price: 5000n, asked: 2, answer: 0 })
  })

  it('keeps its count across a restart on a cheaper node', () => {
    const agent = loadAgent(agentPath('nomad'), { price: 5000n })
    agent.init()
    agent.ticks(3)
    agent.price = 500n
    const moved = agent.restart()
    expect(moved.tick().logs).toEqual(['[nomad] tick=4 price=500 threshold=2000 move=stay'])
    expect(stateOf(moved.checkpoint()).ticks).toBe(4n)
  })

  it('answers -1 when its manifest disables migration', () => {
    const agent = loadAgent(agentPath('nomad'), { price: 5000n, manifest: { capabilities: { pricing: { version: 1 }, mobility: { version: 1 }, log: { version: 1 } }, migration_policy: { enabled: false } } })
    agent.init()
    expect(agent.tick().logs).toEqual(['[nomad] tick=1 price=5000 threshold=2000 move=refused(-1)'])
  })
})
