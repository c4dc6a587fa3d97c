// SPEC §15 `wallet_pay` end to end with real processes: igord runs the x402buyer demo against the
// paywall script (agents/scripts/paywall-server.mjs, started by the test). Killed with -9 at a random
// moment and restarted, the agent never pays twice for an item (the paywall's payments file holds one
// receipt per item), and `igord receipts` proves conservation with the payments counted ("paid <y>").
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { agentsDir } from '@igor/agents'
import { decodePayments, encodeWalletPayReceipt } from '@igor/checkpoint-codec'
import { buildAgent } from '@igor/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, sleep, useNodes, waitFor } from './harness.js'

const { nodes, dir } = useNodes()
// SPEC §13 egress policy: the paywall is on loopback, which a node denies unless allowed.
const LOOPBACK = ['--http-allow', '127.0.0.1', '--budget', '100']
const PRICE = 100_000n

let paywall: ChildProcess | null = null
afterEach(() => {
  paywall?.kill('SIGKILL')
  paywall = null
})

/** Starts the paywall script on a free port; resolves with the port once it listens. */
async function startPaywall(paymentsFile: string): Promise<number> {
  const script = join(dirname(agentsDir), 'scripts', 'paywall-server.mjs')
  const child = spawn(process.execPath, [script, '--port', '0', '--payments', paymentsFile], { stdio: ['ignore', 'pipe', 'inherit'] })
  paywall = child
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const line = await waitFor('the paywall listening', () => /paywall listening on (\d+)/.exec(out), 30_000)
  return Number(line[1])
}

/** The paywall's payments file: one JSON line per receipt it took. */
async function paywallPayments(file: string): Promise<Array<{ item: number, amount: string, receipt: string }>> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { item: number, amount: string, receipt: string })
}

async function buildBuyer(port: number): Promise<string> {
  const wasm = join(dir.path, 'x402buyer.wasm')
  await buildAgent({
    cwd: dirname(agentsDir), entry: 'demos/x402buyer/index.ts', outFile: wasm, manifest: 'demos/x402buyer/agent.manifest.json',
    constants: { PAYWALL_PORT: port, WAIT_BEFORE_PAY: 1 }
  })
  return wasm
}

/** One receipt per item at the paywall, items 1…n without a gap, each at the price. */
function expectOncePerItem(taken: ReadonlyArray<{ item: number, amount: string }>): void {
  const items = taken.map((p) => p.item)
  expect(new Set(items).size).toBe(items.length)
  expect([...items].sort((a, b) => a - b)).toEqual(items.map((_, i) => i + 1))
  for (const p of taken) expect(BigInt(p.amount)).toBe(PRICE)
}

describe('x402buyer under igord (SPEC §15 wallet_pay)', () => {
  it('pays once per item across kill -9; igord receipts is VALID with the paid sum', async () => {
    const paymentsFile = join(dir.path, 'paywall-payments.jsonl')
    const port = await startPaywall(paymentsFile)
    const wasm = await buildBuyer(port)

    const first = await nodes.start(dir.path, ['--run-agent', wasm, ...LOOPBACK]).ready()
    await waitFor('two items bought', async () => (await paywallPayments(paymentsFile)).length >= 2, 90_000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the node's last lines: ${first.logs.slice(-12).map((l) => l.msg).join(' | ')}; ${first.stderr.slice(-500)}`)
    })
    await sleep(Math.floor(Math.random() * 2000))
    await first.kill()
    const beforeRestart = (await paywallPayments(paymentsFile)).length

    const second = await nodes.start(dir.path, ['--run-agent', wasm, ...LOOPBACK]).ready()
    await waitFor('two more items after the restart', async () => (await paywallPayments(paymentsFile)).length >= beforeRestart + 2, 90_000).catch((error: unknown) => {
      const lines = second.logs.slice(-15).map((l) => l.msg)
      throw new Error(`${(error as Error).message}; the agent's last lines: ${lines.join(' | ')}`)
    })
    await second.stop()

    // The paywall took exactly one receipt per item, items 1…n without a gap.
    const taken = await paywallPayments(paymentsFile)
    expectOncePerItem(taken)

    // The node logged every payment, durable before the agent saw it: each one the paywall took, and at most one
    // per kill whose receipt never reached it (the agent then paid again) plus one on its way at the stop.
    const logged = decodePayments(new Uint8Array(await readFile(join(dir.path, 'checkpoints', 'x402buyer.payments'))))
    const loggedHex = new Set(logged.map((p) => Buffer.from(encodeWalletPayReceipt(p)).toString('hex')))
    for (const p of taken) expect(loggedHex.has(p.receipt)).toBe(true)
    expect(logged.length).toBeLessThanOrEqual(taken.length + 2)
    for (const p of logged) expect([p.amount, p.recipient]).toEqual([PRICE, 'paywall-provider'])

    const audit = await runCli(['receipts', 'x402buyer', '--data-dir', dir.path])
    expect(audit.stderr).toBe('')
    expect(audit.code).toBe(0)
    expect(audit.stdout).toContain(`paid ${PRICE * BigInt(logged.length)}`)
    expect(audit.stdout).toMatch(/Receipts: VALID \(\d+ receipts from 1 nodes?, charged \d+, paid \d+\)/)
  }, 240_000)

  it('migrated A → B while buying: B keeps the payments (Package.Payments), nobody pays twice, igord receipts on B is VALID', async () => {
    const paymentsFile = join(dir.path, 'paywall-payments.jsonl')
    const port = await startPaywall(paymentsFile)
    const wasm = await buildBuyer(port)
    const arrivals = ['--capabilities', 'clock,rand,log,wallet,pricing,http+arrivals,x402']
    const A = nodes.start(join(dir.path, 'A'), ['--run-agent', wasm, ...LOOPBACK, ...arrivals])
    const B = nodes.start(join(dir.path, 'B'), [...LOOPBACK, ...arrivals])
    await Promise.all([A.ready(), B.ready()])
    await waitFor('two items bought on A', async () => (await paywallPayments(paymentsFile)).length >= 2, 90_000).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; A's last lines: ${A.logs.slice(-12).map((l) => l.msg).join(' | ')}; ${A.stderr.slice(-500)}`)
    })
    const moved = await runCli(['migrate', 'x402buyer', '--to', B.address(), '--data-dir', A.dataDir])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    const atHandOff = (await paywallPayments(paymentsFile)).length
    await waitFor('two more items bought on B', async () => (await paywallPayments(paymentsFile)).length >= atHandOff + 2, 90_000)
    await B.stop()
    expectOncePerItem(await paywallPayments(paymentsFile))
    const audit = await runCli(['receipts', 'x402buyer', '--data-dir', B.dataDir])
    expect(audit.stderr).toBe('')
    expect(audit.code).toBe(0)
    const logged = decodePayments(new Uint8Array(await readFile(join(B.dataDir, 'checkpoints', 'x402buyer.payments'))))
    expect(logged.length).toBeGreaterThanOrEqual(atHandOff + 2)
    expect(audit.stdout).toContain(`paid ${PRICE * BigInt(logged.length)}`)
    expect(audit.stdout).toMatch(/Receipts: VALID \(\d+ receipts from 2 nodes, charged \d+, paid \d+\)/)
  }, 240_000)
})
