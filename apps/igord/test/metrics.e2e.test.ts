import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { agentPath, manifestPath } from '@igor/agents'
import { decodeCheckpoint } from '@igor/checkpoint-codec'
import { describe, expect, it } from 'vitest'
import { runCli, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'

const { nodes, dir } = useNodes()

/** GET over the control socket (`socketPath`) or TCP (`host`/`port`): status, content type and text. */
async function get(where: { socketPath: string } | { host: string, port: number }, path: string): Promise<{ status: number, type: string, text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...where, path, method: 'GET', timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

const control = (node: Igord): { socketPath: string } => ({ socketPath: join(node.dataDir, 'igord.sock') })

/** One sample's value from Prometheus text (`name` with its labels, exactly as printed); NaN when absent. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1))
}

async function scrape(node: Igord): Promise<string> {
  const reply = await get(control(node), '/metrics')
  expect(reply.status).toBe(200)
  return reply.text
}

describe('metrics and health (SPEC §14)', () => {
  it('serves /metrics and /healthz on the control socket and on --metrics-listen; tick and checkpoint counters move', async () => {
    const node = await nodes.start(dir.path, ['--run-agent', agentPath('counter'), '--metrics-listen', '127.0.0.1:0']).ready()
    const line = await node.waitForLog('metrics address', (l) => l.msg.startsWith('metrics on http://'))
    const [host, port] = (line.address as string).split(':') as [string, string]
    const tcp = { host, port: Number(port) }

    const first = await waitFor('a tick and a checkpoint counted', async () => {
      const text = await scrape(node)
      return sample(text, 'igor_ticks_total') >= 1 && sample(text, 'igor_checkpoint_bytes_count') >= 1 ? text : undefined
    })
    expect(sample(first, 'igor_agents{state="ACTIVE_OWNER"}')).toBe(1)
    expect(sample(first, 'igor_tick_duration_seconds_count')).toBe(sample(first, 'igor_ticks_total'))
    expect(sample(first, 'igor_checkpoint_bytes_sum')).toBeGreaterThan(0)
    expect(first).toContain('# TYPE igor_tick_duration_seconds histogram')
    expect(first).toMatch(/^igor_build_info\{version="\d+\.\d+\.\d+",node="v20\.[^"]+"\} 1$/m)
    expect(first).toMatch(/^process_resident_memory_bytes \d+/m)

    // The counters move: later scrapes, over TCP this time, show more ticks and more checkpoints.
    await waitFor('more ticks and checkpoints', async () => {
      const reply = await get(tcp, '/metrics')
      expect(reply.type).toMatch(/^text\/plain; version=0\.0\.4/)
      return sample(reply.text, 'igor_ticks_total') > sample(first, 'igor_ticks_total') &&
        sample(reply.text, 'igor_checkpoint_bytes_count') > sample(first, 'igor_checkpoint_bytes_count')
    }, 60_000)

    for (const where of [control(node), tcp]) {
      const health = await get(where, '/healthz')
      expect(health.status).toBe(200)
      expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', network: true, peerId: (await node.status()).node.peerId })
    }
    expect((await get(tcp, '/status')).status).toBe(404) // the TCP listener serves only metrics and health
  })

  it('refuses a --metrics-listen address in use before any agent starts, naming it', async () => {
    const first = await nodes.start(join(dir.path, 'a'), ['--metrics-listen', '127.0.0.1:0']).ready()
    const address = (await first.waitForLog('metrics address', (l) => l.msg.startsWith('metrics on http://'))).address as string
    const second = nodes.start(join(dir.path, 'b'), ['--metrics-listen', address, '--run-agent', agentPath('counter')])
    const { code } = await second.exited
    expect(code).toBe(1)
    expect(second.stderr).toBe(`igord: cannot serve metrics on ${address}: address already in use\n`)
    expect(second.logs.some((l) => l.agentId === 'counter')).toBe(false)
  })

  it('counts, logs and summarizes hand-offs: completed, and refused by the target', async () => {
    const A = nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('counter')])
    const B = nodes.start(join(dir.path, 'B'))
    const C = nodes.start(join(dir.path, 'C'), ['--price-per-second', '200000']) // above counter's max_price_per_second
    await Promise.all([A.ready(), B.ready(), C.ready()])
    await waitFor('counter ticking on A', async () => BigInt((await A.agent('counter'))?.tickNumber ?? '0') >= 1n)

    const refused = await runCli(['migrate', 'counter', '--to', C.address(), '--data-dir', A.dataDir])
    expect(refused.code).toBe(1)
    const moved = await runCli(['migrate', 'counter', '--to', B.address(), '--data-dir', A.dataDir])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    const summary = /^migrated counter to \S+: now at epoch \((\d+),0\); .+ in (\d+) ms \(.+\/s\)\n$/.exec(moved.stdout)
    expect(summary).not.toBeNull()

    // The node logs the start and the end of each hand-off, with bytes and milliseconds.
    const starts = A.logs.filter((l) => l.msg === 'hand-off: sending package')
    expect(starts).toHaveLength(2)
    const bytes = starts[1]!.bytes as number
    expect(bytes).toBeGreaterThan(0)
    const ends = A.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('hand-off finished'))
    expect(ends.map((l) => l.outcome)).toEqual(['refused', 'completed'])
    expect(ends[1]).toMatchObject({ agentId: 'counter', bytes })
    expect(typeof ends[1]!.ms).toBe('number')

    const source = await scrape(A)
    expect(sample(source, 'igor_migrations_total{outcome="completed"}')).toBe(1)
    expect(sample(source, 'igor_migrations_total{outcome="refused"}')).toBe(1)
    expect(sample(source, 'igor_migration_duration_seconds_count{outcome="completed"}')).toBe(1)
    expect(sample(source, 'igor_transfer_bytes_total{direction="out"}')).toBe(bytes + (starts[0]!.bytes as number))
    const target = await scrape(B)
    expect(sample(target, 'igor_arrivals_total')).toBe(1)
    // In: the package's JSON object as read (the sender's framing newline is not part of it).
    expect(sample(target, 'igor_transfer_bytes_total{direction="in"}')).toBeGreaterThan(bytes - 16)
    expect(sample(target, 'igor_transfer_bytes_total{direction="in"}')).toBeLessThanOrEqual(bytes)
    const refuser = await scrape(C)
    expect(sample(refuser, 'igor_admissions_refused_total{reason="MANIFEST_INVALID"}')).toBe(1)
    await waitFor('the agent listed as retired on A', async () => sample(await scrape(A), 'igor_agents{state="RETIRED"}') === 1)
  })

  it('agents sharing a worker with a looping agent keep their instances and tick on: the loop is interrupted in place, nothing is evicted (SPEC §11 sharing a thread)', async () => {
    const agents = join(dir.path, 'agents')
    await mkdir(agents)
    const counters = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']
    for (const id of counters) {
      await copyFile(agentPath('counter'), join(agents, `${id}.wasm`))
      await copyFile(manifestPath('counter'), join(agents, `${id}.manifest.json`))
    }
    // looper never returns from its 3rd tick: the call is interrupted at its deadline inside the thread it shares with all six.
    await copyFile(agentPath('looper'), join(agents, 'looper.wasm'))
    await copyFile(manifestPath('looper'), join(agents, 'looper.manifest.json'))
    const data = join(dir.path, 'data')
    const node = await nodes.start(data, ['--run-agents', agents, '--agents-per-worker', '8']).ready()

    await waitFor('looper halted', async () => (await node.agent('looper'))?.halted, 30_000)
    expect((await node.agent('looper'))!.halted).toMatch(/did not finish within 100 ms/)
    expect(node.logs.filter((l) => l.msg.startsWith('agent restarted from its last checkpoint'))).toEqual([])
    const text = await scrape(node)
    expect(sample(text, 'igor_agent_evictions_total')).toBe(0)
    // The thread stays: the six go on in it.
    expect(sample(text, 'igor_worker_threads')).toBe(1)

    // Every counter ticks on, and none is halted.
    const after = await node.status()
    for (const id of counters) {
      const at = BigInt(after.agents.find((a) => a.agentId === id)!.tickNumber)
      await waitFor(`${id} ticking on`, async () => BigInt((await node.agent(id))!.tickNumber) > at + 1n, 30_000)
      expect((await node.agent(id))!.halted).toBeNull()
    }
    expect(await node.stop()).toEqual({ code: 0, signal: null })
    // State and tick number stay one.
    for (const id of counters) {
      const checkpoint = decodeCheckpoint(new Uint8Array(await readFile(join(data, 'checkpoints', `${id}.checkpoint`))))
      expect(checkpoint.tickNumber).toBeGreaterThan(1n)
      expect(new DataView(checkpoint.state.buffer, checkpoint.state.byteOffset, checkpoint.state.byteLength).getBigUint64(0, true)).toBe(checkpoint.tickNumber)
    }
  })
})
