import { createHash } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agentPath } from '@igor/agents'
import { decodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { CheckpointStore } from '@igor/runner'
import { describe, expect, it } from 'vitest'
import type { AgentStatusJson, StatusJson } from '../src/control/protocol.js'
import { runCli, useNodes, waitFor } from './harness.js'
import { writeWat } from './wat.js'

// Issue 8 / SPEC §11: the hostile corpus (packages/sandbox/test/hostile/*.wat, which
// @igor/sandbox's src/hostile-corpus.test.ts also runs against the sandbox alone)
// next to a healthy agent in ONE real igord. Each hostile module ends harmless,
// halted or refused with a reason in `igord status --json`; the node, its log,
// its files and the healthy agent are untouched.

const CORPUS = fileURLToPath(new URL('../../../packages/sandbox/test/hostile/', import.meta.url))

/** Modules that cannot be given with --run-agent (refused at load, or needing a state to resume): placed in the data dir as stored agents. */
const STORED = new Set(['table-bomb', 'memory-bomb', 'bad-malloc'])
const MANIFESTS: Record<string, string> = { 'log-flood-forever': '{"capabilities": {"log": {"version": 1}}}' }

/** null = harmless (still ticking, so every WASI answer it checks was right); else the reason `status` must show. */
const EXPECTED: Record<string, RegExp | null> = {
  'wasi-proc-raise': null,
  'wasi-fd-read-stdin': null,
  'wasi-close-stdio': null,
  'wasi-path-open': null,
  'wasi-sock-accept': null,
  'wasi-fd-spray': null,
  'table-grow-bomb': null,
  'stdout-flood': null,
  'start-exit-zero': null,
  'table-bomb': /^table-bomb\.wasm \(stored\): table 0 has an initial size of 10000000 entries; the limit is 100000 entries$/,
  'memory-bomb': /^memory-bomb\.wasm \(stored\): memory initial size 65536 pages \(4096 MiB\) exceeds the limit of 1024 pages \(64 MiB\)$/,
  'bad-malloc': /^start failed: .*malloc\(8\) returned an unusable pointer 2147483632/,
  'bad-checkpoint-size': /^start failed: .*agent_checkpoint returned 2147483392 bytes at 1024, outside its memory/,
  'negative-checkpoint-size': /^start failed: .*agent_checkpoint returned a negative size -8$/,
  'bad-checkpoint-ptr': /^start failed: .*agent_checkpoint returned 8 bytes at 4294967295, outside its memory/,
  'sleep-in-init': /^start failed: .*poll_oneoff asked to wait 3600 s, past the call's deadline/,
  'sleep-in-tick': /^tick failed: poll_oneoff asked to wait 3600 s, past the call's deadline/,
  'log-flood-forever': /^tick failed: agent did not finish within 100 ms; stopped$/,
  'proc-exit-in-tick': /^tick failed: agent called proc_exit\(3\)$/,
  'spin-checkpoint': /agent did not finish within 5000 ms; stopped$/,
  // SPEC §12: the state copy a tick keeps for replay runs under the checkpoint deadline, not the tick's.
  'slow-checkpoint': null
}

const { nodes, dir } = useNodes()

/** Every file under `root` except `skip`, with its size and content hash. */
async function snapshot(root: string, skip: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name)
      if (path === skip) continue
      if (entry.isDirectory()) await walk(path)
      else out[relative(root, path)] = `${(await stat(path)).size}:${createHash('sha256').update(await readFile(path)).digest('hex')}`
    }
  }
  await walk(root)
  return out
}

async function statusJson(data: string): Promise<StatusJson> {
  const result = await runCli(['status', '--json', '--data-dir', data], 30_000)
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as StatusJson
}

async function agentsById(data: string): Promise<Record<string, AgentStatusJson>> {
  return Object.fromEntries((await statusJson(data)).agents.map((a) => [a.agentId, a]))
}

describe('the hostile corpus cannot hurt the node (SPEC §11)', () => {
  // Issue 17: the corpus runs beside the healthy agent in shared worker threads (the default) and with a thread each.
  for (const mode of [{ name: 'shared worker threads', flags: [] as string[] }, { name: 'a thread each', flags: ['--agents-per-worker', '1'] }]) {
  it(`every hostile agent ends harmless, halted or refused with a reason; the node, its files and a healthy agent are untouched (${mode.name})`, async () => {
    const data = join(dir.path, 'data')
    const store = await CheckpointStore.open(data)
    const names = (await readdir(CORPUS)).filter((f) => f.endsWith('.wat')).map((f) => f.replace(/\.wat$/, '')).sort()
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort())
    const runAgents: string[] = []
    for (const name of names) {
      const wasmPath = await writeWat(join(dir.path, `${name}.wasm`), await readFile(join(CORPUS, `${name}.wat`), 'utf8'))
      if (MANIFESTS[name] !== undefined) await writeFile(join(dir.path, `${name}.manifest.json`), MANIFESTS[name])
      if (!STORED.has(name)) {
        runAgents.push('--run-agent', wasmPath)
        continue
      }
      const wasm = new Uint8Array(await readFile(wasmPath))
      await store.saveModule(name, wasm)
      await store.save(name, {
        budget: 1_000_000n,
        pricePerSecond: 1000n,
        tickNumber: 1n,
        wasmHash: new Uint8Array(createHash('sha256').update(wasm).digest()),
        epoch: Epoch.ZERO,
        leaseExpiry: 0n,
        state: new Uint8Array(8)
      })
    }
    const before = await snapshot(dir.path, data)

    const node = await nodes.start(data, ['--run-agent', agentPath('counter'), ...runAgents, ...mode.flags]).ready()

    // Every hostile agent reaches its expected end; the harmless ones keep ticking.
    const ended = await waitFor('every hostile agent at its expected end', async () => {
      const byId = await agentsById(data)
      for (const [name, reason] of Object.entries(EXPECTED)) {
        const agent = byId[name]
        if (agent === undefined) return null
        if (reason === null ? agent.halted !== null || BigInt(agent.tickNumber) < 2n : agent.halted === null) return null
      }
      return byId
    }, 90_000).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${JSON.stringify((await statusJson(data)).agents.map((a) => [a.agentId, a.halted, a.tickNumber]))}`)
    })
    for (const [name, reason] of Object.entries(EXPECTED)) {
      const halted = ended[name]!.halted
      if (reason === null) expect([name, halted]).toEqual([name, null])
      else {
        expect(halted, name).toMatch(reason)
        expect(halted, name).not.toMatch(/\n/)
      }
    }

    // The healthy agent keeps ticking after all of that.
    const counterAt = BigInt(ended.counter!.tickNumber)
    await waitFor('counter ticking on', async () => BigInt((await agentsById(data)).counter!.tickNumber) > counterAt + 1n, 60_000)

    // Start-up and checkpoint time is charged: slow-checkpoint's checkpoints (and the state copy each tick keeps
    // for replay) spin 100 ms each at 1000 µ¢/s.
    expect(BigInt((await agentsById(data))['slow-checkpoint']!.budget)).toBeLessThanOrEqual(1_000_000n - 100n)

    // Output caps: the flood reached the log as at most 64 lines per tick plus one summary line.
    const summaries = node.logs.filter((l) => l.agentId === 'stdout-flood' && l.src === 'sandbox')
    expect(summaries.length).toBeGreaterThan(0)
    expect(summaries[0]!.msg).toBe('agent output over the per-call cap (64 lines, 65536 bytes): dropped 236 lines, 4012 bytes')
    const floodLines = node.logs.filter((l) => l.agentId === 'log-flood-forever' && l.src === 'agent').length
    expect(floodLines).toBeLessThanOrEqual(64)
    expect(node.logs.filter((l) => l.agentId === 'wasi-close-stdio' && l.src === 'stdout')).toEqual([])

    expect(await node.stop()).toEqual({ code: 0, signal: null })
    expect(node.stderr).not.toMatch(/internal error|\n\s+at /)

    // Nothing outside the data dir changed; the healthy agent's state is exactly its own ticks.
    expect(await snapshot(dir.path, data)).toEqual(before)
    const counter = decodeCheckpoint(new Uint8Array(await readFile(join(data, 'checkpoints', 'counter.checkpoint'))))
    expect(counter.tickNumber).toBeGreaterThan(counterAt)
    expect(new DataView(counter.state.buffer, counter.state.byteOffset, counter.state.byteLength).getBigUint64(0, true)).toBe(counter.tickNumber)
    // Refused modules left their files as they were: nothing was overwritten.
    const bomb = decodeCheckpoint(new Uint8Array(await readFile(join(data, 'checkpoints', 'table-bomb.checkpoint'))))
    expect(bomb.tickNumber).toBe(1n)
  }, 180_000)
  }

  it('a table bomb given with --run-agent is refused at load with one line naming the limit', async () => {
    const wasmPath = await writeWat(join(dir.path, 'table-bomb.wasm'), await readFile(join(CORPUS, 'table-bomb.wat'), 'utf8'))
    const node = nodes.start(join(dir.path, 'data'), ['--run-agent', wasmPath])
    const exited = await node.exited
    expect(exited.signal).toBeNull()
    expect(exited.code).not.toBe(0)
    const refusal = node.logs.find((l) => l.code === 'MODULE_LIMIT')
    expect(refusal?.msg).toBe(`${wasmPath}: table 0 has an initial size of 10000000 entries; the limit is 100000 entries`)
    expect(node.stderr).not.toMatch(/internal error|\n\s+at |out of memory/i)
  }, 60_000)
})
