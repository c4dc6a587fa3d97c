// SPEC §15 settlement throughput: sealed receipts delivered by the `--settlement-url` adapter to a
// local node:http server — each one written durably to the outbox (atomic write + fsync), POSTed with
// its Idempotency-Key, its delivery mark written and its entry removed. One agent (strictly one POST
// at a time) and 10 agents (their queues run side by side). Figures are receipts per second.
import { createServer } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ed25519PeerId, signReceipt } from '@igor/checkpoint-codec'
import { AgentIdentity } from '@igor/identity'
import { HttpBudgetAdapter, silentLogger } from '@igor/runner'

export const name = 'settlement'

const identity = AgentIdentity.fromSeed(new Uint8Array(32).fill(3))
const nodeId = ed25519PeerId(identity.publicKey)
const receipt = (agentId, i) => signReceipt({
  agentId, nodeId, epochStart: BigInt(i * 10 + 1), epochEnd: BigInt(i * 10 + 10), costMicrocents: 10_000n, budgetAfter: 1_000_000_000n - BigInt(i) * 10_000n, timestampNs: 1_700_000_000_000_000_000n
}, (d) => identity.sign(d))

async function deliver(url, agents, perAgent) {
  const dir = await mkdtemp(join(process.env.IGOR_BENCH_DIR ?? tmpdir(), 'igor-bench-settle-'))
  try {
    const adapter = await HttpBudgetAdapter.open({ url, dataDir: dir, log: silentLogger })
    const start = process.hrtime.bigint()
    for (let i = 0; i < perAgent; i++) for (let a = 0; a < agents; a++) adapter.recordSettlement(receipt(`agent-${a}`, i), { sealed: true })
    await adapter.idle()
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const { deliveredTotal } = adapter.metrics()
    await adapter.close()
    if (deliveredTotal !== agents * perAgent) throw new Error(`delivered ${deliveredTotal} of ${agents * perAgent}`)
    return (agents * perAgent) / seconds
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function run(ctx) {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(201).end()) })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/settle`
  const rows = []
  try {
    const n = ctx.quick ? 100 : 500
    ctx.log(`settlement: ${n} receipts, one agent`)
    rows.push(ctx.entry('settlement throughput, 1 agent (outbox fsync + POST + mark, in order)', await deliver(url, 1, n), 'receipts/s', { note: 'local node:http server; sequential per agent' }))
    ctx.log(`settlement: ${n} receipts over 10 agents`)
    rows.push(ctx.entry('settlement throughput, 10 agents', await deliver(url, 10, n / 10), 'receipts/s', { note: 'local node:http server; agents\' queues in parallel' }))
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  return rows
}
