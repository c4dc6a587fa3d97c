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

describe('x402buyer under igord (SPEC §15 wallet_pay)', () => {
  it('pays once per item across kill -9; igord receipts is VALID with the paid sum', async () => {
    const paymentsFile = join(dir.path, 'paywall-payments.jsonl')
    const port = await startPaywall(paymentsFile)
    const wasm = join(dir.path, 'x402buyer.wasm')
    await buildAgent({
      cwd: dirname(agentsDir), entry: 'demos/x402buyer/index.ts', outFile: wasm, manifest: 'demos/x402buyer/agent.manifest.json',
      constants: { PAYWALL_PORT: port, WAIT_BEFORE_PAY: 1 }
    })

    const first = await nodes.start(dir.path, ['--run-agent', wasm, ...LOOPBACK]).ready()
    await waitFor('two items bought', async () => (await paywallPayments(paymentsFile)).length >= 2, 90_000)
    await sleep(Math.floor(Math.random() * 2000))
    await first.kill()
    const beforeRestart = (await paywallPayments(paymentsFile)).length

    const second = await nodes.start(dir.path, ['--run-agent', wasm, ...LOOPBACK]).ready()
    await waitFor('two more items after the restart', async () => (await paywallPayments(paymentsFile)).length >= beforeRestart + 2, 90_000).catch((error: unknown) => {
      const lines = second.logs.filter((l) => l.agentId === 'x402buyer').slice(-15).map((l) => l.msg)
      throw new Error(`${(error as Error).message}; the agent's last lines: ${lines.join(' | ')}`)
    })
    await second.stop()

    // The paywall took exactly one receipt per item, items 1…n without a gap.
    const taken = await paywallPayments(paymentsFile)
    const items = taken.map((p) => p.item)
    expect(new Set(items).size).toBe(items.length)
    expect([...items].sort((a, b) => a - b)).toEqual(items.map((_, i) => i + 1))
    for (const p of taken) expect(BigInt(p.amount)).toBe(PRICE)

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
})
