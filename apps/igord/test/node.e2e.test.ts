import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { decodeCheckpoint } from '@igor/checkpoint-codec'
import { describe, expect, it } from 'vitest'
import type { StatusJson } from '../src/control/protocol.js'
import { runCli, sleep, useNodes, waitFor } from './harness.js'
import { WASI_AGENT_WAT, writeWat } from './wat.js'

const { nodes, dir } = useNodes()

const checkpointFile = (agentId: string): string => join(dir.path, 'checkpoints', `${agentId}.checkpoint`)

async function readCheckpoint(agentId: string) {
  return decodeCheckpoint(new Uint8Array(await readFile(checkpointFile(agentId))))
}

describe('igord runs an agent and survives restarts', () => {
  it('SIGINT writes a final checkpoint; a restart continues the tick count at a renewed epoch', async () => {
    const first = await nodes.start(dir.path, ['--run-agent', agentPath('survivor')]).ready()
    const started = await first.waitForLog('start-up line', (l) => l.msg === 'agent started')
    expect(started).toMatchObject({ agentId: 'survivor', epoch: '(0,0)', state: 'ACTIVE_OWNER' })
    expect(typeof started.leaseExpiry).toBe('string')
    await first.waitForLog('third tick', (l) => l.agentId === 'survivor' && /survivor tick 3\b/.test(l.msg))
    expect(await first.stop()).toEqual({ code: 0, signal: null })
    const saved = await readCheckpoint('survivor')
    expect(saved.tickNumber).toBeGreaterThanOrEqual(3n)
    expect(saved.epoch.toString()).toBe('(0,0)')

    const second = await nodes.start(dir.path, ['--run-agent', agentPath('survivor')]).ready()
    const resumed = await second.waitForLog('resume line', (l) => l.msg === 'agent resumed from checkpoint')
    expect(resumed).toMatchObject({ epoch: '(0,1)', tickNumber: saved.tickNumber.toString(), budget: saved.budget.toString() })
    const next = saved.tickNumber + 1n
    await second.waitForLog(`tick ${next}`, (l) => l.agentId === 'survivor' && l.msg.includes(`survivor tick ${next} `))
    const status = await second.agent('survivor')
    expect(status).toMatchObject({ state: 'ACTIVE_OWNER', majorVersion: '0', leaseGeneration: '1', halted: null })
    expect(BigInt(status!.budget)).toBeLessThan(saved.budget + 1n)
  })

  it('SIGKILL at random moments: every checkpoint decodes and the tick count never goes back', async () => {
    let last = -1n
    for (let round = 0; round < 5; round++) {
      const node = await nodes.start(dir.path, ['--run-agent', agentPath('counter')]).ready()
      await sleep(200 + Math.floor(Math.random() * 1800))
      await node.kill()
      const files = await readdir(join(dir.path, 'checkpoints'))
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]) // only ever renamed into place
      const checkpoint = await readCheckpoint('counter')
      expect(checkpoint.tickNumber).toBeGreaterThanOrEqual(last)
      expect(checkpoint.epoch.leaseGeneration).toBe(BigInt(round))
      last = checkpoint.tickNumber
    }
  })

  it('a node paused past expiry + grace never ticks again until `igord recover`', async () => {
    const node = await nodes.start(dir.path, ['--run-agent', agentPath('counter'), '--lease-duration', '2s', '--lease-grace', '1s', '--recovery', 'manual']).ready()
    await waitFor('two ticks', async () => BigInt((await node.agent('counter'))!.tickNumber) >= 2n)
    node.signal('SIGSTOP')
    await sleep(4500)
    node.signal('SIGCONT')
    const halted = await waitFor('RECOVERY_REQUIRED', async () => {
      const a = await node.agent('counter')
      return a?.state === 'RECOVERY_REQUIRED' ? a : null
    })
    expect(halted.halted).toBe('lease expired beyond grace')
    await sleep(2500)
    expect((await node.agent('counter'))!.tickNumber).toBe(halted.tickNumber)
    expect((await readCheckpoint('counter')).tickNumber.toString()).toBe(halted.tickNumber)

    const recovered = await runCli(['recover', 'counter', '--data-dir', dir.path])
    expect(recovered.stderr).toBe('')
    expect(recovered.code).toBe(0)
    expect(recovered.stdout).toMatch(/^recovered counter: ACTIVE_OWNER at \(0,\d+\)\n$/)
    const after = await waitFor('ticking again', async () => {
      const a = await node.agent('counter')
      return a !== undefined && BigInt(a.tickNumber) > BigInt(halted.tickNumber) ? a : null
    })
    expect(BigInt(after.leaseGeneration)).toBeGreaterThan(BigInt(halted.leaseGeneration))
    expect(after.halted).toBeNull()
  })

  it('halts a looping, a trapping and a memory-hungry agent; the node keeps running the others and answers status', async () => {
    const node = await nodes.start(dir.path, ['looper', 'trapper', 'hog', 'counter'].flatMap((n) => ['--run-agent', agentPath(n as 'counter')])).ready()
    const status = await waitFor('three halted agents', async () => {
      const s = await node.status()
      return s.agents.filter((a) => a.halted !== null).length === 3 ? s : null
    }, 60_000)
    const byId = Object.fromEntries(status.agents.map((a) => [a.agentId, a]))
    expect(byId.looper!.halted).toMatch(/did not finish within 100 ms/)
    expect(byId.trapper!.halted).toMatch(/trapped/)
    expect(byId.hog!.halted).toMatch(/tick failed/)
    expect(byId.counter!.halted).toBeNull()
    const ticks = BigInt(byId.counter!.tickNumber)
    await waitFor('counter keeps ticking', async () => BigInt((await node.agent('counter'))!.tickNumber) >= ticks + 2n)
    for (const id of ['looper', 'trapper', 'hog']) {
      const checkpoint = await readCheckpoint(id) // last good checkpoint kept and decodable
      expect(checkpoint.tickNumber).toBeLessThanOrEqual(BigInt(byId[id]!.tickNumber))
    }
    expect(node.stderr).not.toMatch(/\n\s+at /)
  })

  it('runs a wasip1 command-style agent built by another toolchain; its stdout becomes log lines with the agent id', async () => {
    const wasm = await writeWat(join(dir.path, 'hello.wasm'), WASI_AGENT_WAT)
    const node = await nodes.start(dir.path, ['--run-agent', wasm]).ready()
    const hello = await node.waitForLog('_start output', (l) => l.msg === 'hello from wat')
    expect(hello).toMatchObject({ agentId: 'hello', src: 'stdout' })
    await node.waitForLog('tick output', (l) => l.msg === 'wat tick' && l.agentId === 'hello')
    expect(node.stderr).not.toMatch(/ExperimentalWarning|WASI is an experimental/)
  })

  it('status lists every agent with exact 64-bit fields; the control socket is owner-only; a second node on the same data dir is refused', async () => {
    const node = await nodes.start(dir.path, ['--run-agent', agentPath('counter'), '--budget', '9223372036854.775807']).ready()
    const json = await runCli(['status', '--json', '--data-dir', dir.path])
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout) as StatusJson
    expect(parsed.node.peerId).toMatch(/^12D3Koo/)
    expect(parsed.node.addresses.some((a: string) => a.startsWith('/ip4/127.0.0.1/tcp/') && a.endsWith(`/p2p/${parsed.node.peerId}`))).toBe(true)
    const agent = parsed.agents[0] as unknown as Record<string, string>
    expect(Object.keys(agent).sort()).toEqual(['agentId', 'budget', 'halted', 'leaseExpiry', 'leaseGeneration', 'majorVersion', 'pricePerSecond', 'state', 'tickNumber'])
    expect(agent.budget).toMatch(/^92233720368547\d{5}$/) // above 2^53, exact (less what ticks cost)
    expect(BigInt(agent.budget!)).toBeLessThanOrEqual((1n << 63n) - 1n)
    for (const key of ['majorVersion', 'leaseGeneration', 'leaseExpiry', 'tickNumber', 'pricePerSecond']) expect(typeof agent[key]).toBe('string')

    const text = await runCli(['status', '--data-dir', dir.path])
    expect(text.stdout).toMatch(/AGENT\s+STATE\s+EPOCH/)
    expect(text.stdout).toMatch(/counter\s+ACTIVE_OWNER\s+\(0,0\)/)

    expect((await stat(join(dir.path, 'igord.sock'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir.path, 'node.key'))).mode & 0o777).toBe(0o600)

    const second = nodes.start(dir.path, ['--run-agent', agentPath('survivor')])
    const exit = await second.exited
    expect(exit.code).toBe(1)
    expect(second.stderr.trim()).toMatch(/^igord: another igord is already running with this data directory/)
    expect(await node.agent('survivor')).toBeUndefined()
  })

  it('igord status without a running node says so in one line', async () => {
    const result = await runCli(['status', '--data-dir', dir.path])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`igord: no igord is running with data dir ${dir.path} (no control socket at ${join(dir.path, 'igord.sock')})\n`)
  })

  it('keeps the peer id across restarts', async () => {
    const first = await nodes.start(dir.path).ready()
    const id = (await first.status()).node.peerId
    await first.stop()
    const second = await nodes.start(dir.path).ready()
    expect((await second.status()).node.peerId).toBe(id)
  })

  it('resumes an agent from its stored copy when restarted without --run-agent', async () => {
    const first = await nodes.start(dir.path, ['--run-agent', agentPath('counter')]).ready()
    await waitFor('a tick', async () => BigInt((await first.agent('counter'))!.tickNumber) >= 1n)
    await first.stop()
    const saved = await readCheckpoint('counter')
    const second = await nodes.start(dir.path).ready()
    await waitFor('resumed and ticking', async () => BigInt((await second.agent('counter'))!.tickNumber) > saved.tickNumber)
    expect((await second.agent('counter'))!.leaseGeneration).toBe('1')
  })

  it('inspects the resulting checkpoint with igord --inspect-checkpoint', async () => {
    const node = await nodes.start(dir.path, ['--run-agent', agentPath('survivor')]).ready()
    await node.stop()
    const out = await runCli(['--inspect-checkpoint', checkpointFile('survivor'), '--inspect-wasm', agentPath('survivor')])
    expect(out.code).toBe(0)
    expect(out.stdout).toMatch(/^Version: {10}4 \(0x04\)$/m) // SPEC §12: every agent has an identity, so v0x04
    expect(out.stdout).toMatch(/^Signature: {8}VALID$/m)
    expect(out.stdout).toMatch(/^Epoch: {12}\(0,0\)$/m)
    expect(out.stdout).toMatch(/^WASM Verified: {4}YES/m)
    await writeFile(join(dir.path, 'other.wasm'), await readFile(agentPath('counter')))
    const mismatch = await runCli(['--inspect-checkpoint', checkpointFile('survivor'), '--inspect-wasm', join(dir.path, 'other.wasm')])
    expect(mismatch.code).toBe(1)
    expect(mismatch.stdout).toMatch(/^WASM Verified: {4}NO/m)
  })
})
