import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { encodeCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { encodeAgentTransfer } from '@igor/migration'
import { describe, expect, it } from 'vitest'
import { controlRequest } from '../src/control/client.js'
import type { StatusJson } from '../src/control/protocol.js'
import { IGORD, runCli, sleep, useNodes, waitFor } from './harness.js'
import { TestPeer } from './p2p-client.js'
import { agentWat, writeWat } from './wat.js'

// Issue 8 (SPEC §11 failure containment), points 7 and 8: one agent's failure at
// start stays with that agent, and the node's own I/O cannot kill it.

const { nodes, dir } = useNodes()

const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

async function ticksPast(dataDir: string, agentId: string, past: bigint): Promise<void> {
  await waitFor(`${agentId} ticking past ${past}`, async () => {
    const reply = await controlRequest(dataDir, 'GET', '/status', undefined, 10_000)
    const agent = (reply.body as StatusJson).agents.find((a) => a.agentId === agentId)
    return agent !== undefined && BigInt(agent.tickNumber) > past
  }, 60_000)
}

describe('a failing agent at start halts alone (point 7)', () => {
  it('a bad checkpoint length at the first checkpoint, a trap in agent_init: those agents halt with one line, the node and the counter run on', async () => {
    const badLength = await writeWat(join(dir.path, 'badlen.wasm'), agentWat({ omit: ['agent_checkpoint'], extra: '(func (export "agent_checkpoint") (result i32) i32.const 0x7fffff00)' }))
    const initTrap = await writeWat(join(dir.path, 'inittrap.wasm'), agentWat({ omit: ['agent_init'], extra: '(func (export "agent_init") unreachable)' }))
    const data = join(dir.path, 'data')
    const node = await nodes.start(data, ['--run-agent', badLength, '--run-agent', initTrap, '--run-agent', agentPath('counter')]).ready()
    const status = await node.status()
    const byId = Object.fromEntries(status.agents.map((a) => [a.agentId, a]))
    expect(byId.badlen!.halted).toMatch(/^start failed: .*agent_checkpoint returned/)
    expect(byId.inittrap!.halted).toMatch(/^start failed: .*agent_init failed/)
    for (const id of ['badlen', 'inittrap']) expect(byId[id]!.halted).not.toMatch(/\n/)
    expect(byId.counter!.halted).toBeNull()
    await ticksPast(data, 'counter', 1n)
    expect(node.logs.some((l) => l.agentId === 'badlen' && l.level >= 50 && /agent halted: start failed/.test(l.msg))).toBe(true)
    // No first checkpoint, so nothing on disk claims the agent: a restart treats it as new.
    expect(await exists(join(data, 'checkpoints', 'badlen.checkpoint'))).toBe(false)
    expect(await exists(join(data, 'checkpoints', 'badlen.authority.json'))).toBe(false)
    expect(await node.stop()).toEqual({ code: 0, signal: null })
    expect(node.stderr).not.toMatch(/internal error|\n\s+at /)
  })

  it('a trap in agent_resume at restart halts that agent; the others resume', async () => {
    const resumeTrap = await writeWat(join(dir.path, 'resumetrap.wasm'), agentWat({ omit: ['agent_resume'], extra: '(func (export "agent_resume") (param i32 i32) unreachable)' }))
    const data = join(dir.path, 'data')
    const first = await nodes.start(data, ['--run-agent', resumeTrap, '--run-agent', agentPath('counter')]).ready()
    await ticksPast(data, 'counter', 1n)
    expect(await first.stop()).toEqual({ code: 0, signal: null })

    // Stored agents come back without --run-agent.
    const second = await nodes.start(data).ready()
    const trapped = await waitFor('resumetrap halted', async () => {
      const a = await second.agent('resumetrap')
      return a?.halted !== null ? a : null
    })
    expect(trapped.halted).toMatch(/^start failed: .*resume failed/)
    const counter = await second.agent('counter')
    await ticksPast(data, 'counter', BigInt(counter!.tickNumber))
    expect(await second.stop()).toEqual({ code: 0, signal: null })
  })

  it('a bad checkpoint length later (a periodic checkpoint) halts that agent only', async () => {
    // agent_checkpoint is fine the first time (the start checkpoint), then returns a length outside memory.
    const later = await writeWat(join(dir.path, 'laterbad.wasm'), agentWat({
      omit: ['agent_checkpoint'],
      extra: `(global $calls (mut i32) (i32.const 0))
  (func (export "agent_checkpoint") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (result i32) (i32.gt_u (global.get $calls) (i32.const 1)) (then (i32.const 0x7fffff00)) (else (i32.const 8))))`
    }))
    const data = join(dir.path, 'data')
    const node = await nodes.start(data, ['--run-agent', later, '--run-agent', agentPath('counter')]).ready()
    const halted = await waitFor('laterbad halted', async () => {
      const a = await node.agent('laterbad')
      return a?.halted !== null ? a : null
    }, 60_000)
    expect(halted.halted).toMatch(/agent_checkpoint returned/)
    const counter = await node.agent('counter')
    await ticksPast(data, 'counter', BigInt(counter!.tickNumber))
    expect(await node.stop()).toEqual({ code: 0, signal: null })
  })
})

describe('the node\'s own I/O cannot kill it (point 8)', () => {
  it('stdout closed by its reader (EPIPE): the node keeps ticking, answers status and exits 0 on SIGINT', async () => {
    const data = join(dir.path, 'data')
    const child = spawn(process.execPath, [IGORD, '--data-dir', data, '--listen', '/ip4/127.0.0.1/tcp/0', '--run-agent', agentPath('counter')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      // Like `igord … | head -1`: read one line, then the reader goes away.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
      child.stdout.destroy()
      await waitFor('control socket', async () => (await controlRequest(data, 'GET', '/status', undefined, 10_000)).status === 200)
      await ticksPast(data, 'counter', 2n)
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stderr).not.toMatch(/internal error|\n\s+at /)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('a control-socket path over the Unix limit is refused with one line before anything is created', async () => {
    const long = join(dir.path, 'd'.repeat(120))
    const started = await runCli(['--data-dir', long, '--listen', '/ip4/127.0.0.1/tcp/0', '--run-agent', agentPath('counter')])
    expect(started.code).toBe(1)
    expect(started.stderr).toMatch(/^igord: control socket path .* over the Unix limit of 107; use a shorter --data-dir\n$/)
    expect(await exists(long)).toBe(false)
    expect((await readdir(dir.path)).filter((n) => n.endsWith('.sock'))).toEqual([])

    const status = await runCli(['status', '--data-dir', long])
    expect(status.code).toBe(1)
    expect(status.stderr).toMatch(/^igord: control socket path .* over the Unix limit/)
  })
})

describe('no crash loops: quarantine (point 5)', () => {
  async function crashOnce(data: string, args: string[], abortIn: string): Promise<void> {
    process.env.IGOR_TEST_ABORT_IN = abortIn
    try {
      const node = nodes.start(data, args)
      expect((await node.exited).signal).toBe('SIGKILL')
    } finally {
      delete process.env.IGOR_TEST_ABORT_IN
    }
  }

  it('a node that dies inside the same agent\'s tick on 3 consecutive starts comes up with that agent quarantined and the others running; release resumes it', async () => {
    const data = join(dir.path, 'data')
    const args = ['--run-agent', agentPath('counter'), '--run-agent', agentPath('survivor')]
    for (let start = 0; start < 3; start++) await crashOnce(data, args, 'survivor:agent_tick')

    // The hook is still set: without the quarantine this start would die as well.
    process.env.IGOR_TEST_ABORT_IN = 'survivor:agent_tick'
    const node = nodes.start(data, args)
    delete process.env.IGOR_TEST_ABORT_IN
    await node.ready()
    const survivor = await node.agent('survivor')
    expect(survivor!.halted).toBe('quarantined: node died while in agent_tick on 3 consecutive starts; release with `igord release`')
    await ticksPast(data, 'counter', 1n)
    const text = await runCli(['status', '--data-dir', data])
    expect(text.stdout).toMatch(/survivor .*quarantined: node died while in agent_tick/)
    expect(node.logs.some((l) => l.agentId === 'survivor' && /quarantined/.test(l.msg))).toBe(true)
    expect(await node.stop()).toEqual({ code: 0, signal: null })

    // Durable: a clean restart keeps it quarantined until the operator releases it.
    const again = await nodes.start(data, args).ready()
    expect((await again.agent('survivor'))!.halted).toMatch(/^quarantined: /)
    const released = await runCli(['release', 'survivor', '--data-dir', data])
    expect(released.stderr).toBe('')
    expect(released.code).toBe(0)
    expect(released.stdout).toMatch(/^released survivor: ACTIVE_OWNER at \(0,\d+\)\n$/)
    await ticksPast(data, 'survivor', 0n)
    expect((await again.agent('survivor'))!.halted).toBeNull()
    const twice = await runCli(['release', 'survivor', '--data-dir', data])
    expect(twice.code).toBe(1)
    expect(twice.stderr).toBe('igord: agent survivor is not quarantined on this node\n')
    expect(await again.stop()).toEqual({ code: 0, signal: null })
    expect(await exists(join(data, 'checkpoints', 'survivor.quarantine.json'))).toBe(false)
  })

  it('dying while loading the same agent 3 times quarantines it with reason "loading"; a death in between that was not in its call resets the count', async () => {
    const data = join(dir.path, 'data')
    const args = ['--run-agent', agentPath('counter'), '--run-agent', agentPath('survivor')]
    // Agents load in parallel: at the first death counter may be loading beside survivor and is counted too.
    // From then on both are suspects and load last, alone, each until its first tick: only survivor is counted.
    await crashOnce(data, args, 'survivor:loading')
    await crashOnce(data, args, 'survivor:loading')
    // A clean start and stop in between: the deaths are no longer consecutive.
    const clean = await nodes.start(data, args).ready()
    expect((await clean.agent('survivor'))!.halted).toBeNull()
    // The second death was counted against survivor alone: counter, a suspect after the first, loaded before it.
    const strikes = JSON.parse(await readFile(join(data, 'checkpoints', 'crash-strikes.json'), 'utf8')) as Record<string, unknown>
    expect(Object.keys(strikes)).toEqual(['survivor'])
    expect(await clean.stop()).toEqual({ code: 0, signal: null })
    await crashOnce(data, args, 'survivor:loading')
    await crashOnce(data, args, 'survivor:loading')
    const notYet = await nodes.start(data, args).ready()
    expect((await notYet.agent('survivor'))!.halted).toBeNull()
    await notYet.kill()
    await crashOnce(data, args, 'survivor:loading')
    await crashOnce(data, args, 'survivor:loading')
    await crashOnce(data, args, 'survivor:loading')
    const node = await nodes.start(data, args).ready()
    expect((await node.agent('survivor'))!.halted).toMatch(/^quarantined: node died while loading on 3 consecutive starts/)
    expect((await node.agent('counter'))!.halted).toBeNull()
  })

  it('an operator\'s kill -9 of a node whose agents behave, many times at random moments, never quarantines any of them', async () => {
    const data = join(dir.path, 'data')
    const args = ['--run-agent', agentPath('counter'), '--run-agent', agentPath('survivor')]
    for (let round = 0; round < 8; round++) {
      const node = await nodes.start(data, args).ready()
      await sleep(100 + Math.floor(Math.random() * 1500))
      await node.kill()
    }
    const node = await nodes.start(data, args).ready()
    const status = await node.status()
    expect(status.agents.map((a) => [a.agentId, a.halted])).toEqual([['counter', null], ['survivor', null]])
    expect((await readdir(join(data, 'checkpoints'))).filter((n) => n.endsWith('.quarantine.json'))).toEqual([])
  })
})

describe('admission loses nothing and leaves nothing (point 6)', () => {
  /** A well-formed package for `wasmFile` at epoch (0,0) from `peer`. */
  async function packageOf(peer: TestPeer, agentId: string, wasmFile: string): Promise<Uint8Array> {
    const wasm = new Uint8Array(await readFile(wasmFile))
    const wasmHash = new Uint8Array(createHash('sha256').update(wasm).digest())
    const checkpoint = encodeCheckpoint({ budget: 1_000_000n, pricePerSecond: 1000n, tickNumber: 3n, wasmHash, epoch: new Epoch(0n, 0n), leaseExpiry: 0n, state: new Uint8Array(8) })
    return encodeAgentTransfer({
      Package: { AgentID: agentId, WASMBinary: wasm, WASMHash: wasmHash, Checkpoint: checkpoint, ManifestData: new Uint8Array(0), Budget: 1_000_000n, PricePerSecond: 1000n, MajorVersion: 0n, LeaseGeneration: 0n },
      SourceNodeID: peer.peerId
    })
  }

  const filesOf = async (data: string, agentId: string): Promise<string[]> =>
    (await readdir(join(data, 'checkpoints'))).filter((n) => n.startsWith(`${agentId}.`) || n.endsWith('.tmp'))

  it('a hostile peer\'s packages that cannot load (trap in agent_resume, failure at instantiate) are refused with the reason, leave no file, and the node restarts cleanly', async () => {
    const resumeTrap = await writeWat(join(dir.path, 'rtrap.wasm'), agentWat({ omit: ['agent_resume'], extra: '(func (export "agent_resume") (param i32 i32) unreachable)' }))
    // A data segment beyond the one page of memory: valid to compile, fails when instantiated.
    const badInstance = await writeWat(join(dir.path, 'badinst.wasm'), agentWat({ extra: '(data (i32.const 70000) "x")' }))
    const data = join(dir.path, 'data')
    const node = await nodes.start(data, ['--run-agent', agentPath('counter')]).ready()
    const peer = await TestPeer.start()
    try {
      const trapped = await peer.send(node.address(), await packageOf(peer, 'rtrap', resumeTrap))
      expect(trapped.reply).toMatchObject({ AgentID: 'rtrap', Success: false })
      expect(trapped.reply!.Error).toMatch(/resume failed: .*unreachable/)
      const broken = await peer.send(node.address(), await packageOf(peer, 'badinst', badInstance))
      expect(broken.reply).toMatchObject({ AgentID: 'badinst', Success: false })
      expect(broken.reply!.Error).toMatch(/failed/)
      for (const id of ['rtrap', 'badinst']) {
        expect(await filesOf(data, id)).toEqual([])
        expect(await node.agent(id)).toBeUndefined()
      }
      await ticksPast(data, 'counter', 1n)
    } finally {
      await peer.stop()
    }
    expect(await node.stop()).toEqual({ code: 0, signal: null })
    const again = await nodes.start(data).ready()
    expect((await again.status()).agents.map((a) => [a.agentId, a.halted])).toEqual([['counter', null]])
    expect(await again.stop()).toEqual({ code: 0, signal: null })
    expect(again.stderr).toBe('')
  })

  it('an arrival that kills the node while it loads leaves no file; the node restarts with the others', async () => {
    const data = join(dir.path, 'data')
    process.env.IGOR_TEST_ABORT_IN = 'killer:loading'
    const node = nodes.start(data, ['--run-agent', agentPath('counter')])
    delete process.env.IGOR_TEST_ABORT_IN
    await node.ready()
    const peer = await TestPeer.start()
    try {
      const sent = await peer.send(node.address(), await packageOf(peer, 'killer', agentPath('survivor')))
      expect(sent.reply).toBeNull()
      expect((await node.exited).signal).toBe('SIGKILL')
    } finally {
      await peer.stop()
    }
    expect(await filesOf(data, 'killer')).toEqual([])
    const again = await nodes.start(data).ready()
    expect((await again.status()).agents.map((a) => [a.agentId, a.halted])).toEqual([['counter', null]])
    expect(await again.stop()).toEqual({ code: 0, signal: null })
  })

  it('--max-agents refuses an arrival beyond it with the reason; --peer-admissions-per-minute refuses a peer that sends too often', async () => {
    const data = join(dir.path, 'data')
    const node = await nodes.start(data, ['--run-agent', agentPath('counter'), '--max-agents', '1', '--peer-admissions-per-minute', '2']).ready()
    const peer = await TestPeer.start()
    try {
      const full = await peer.send(node.address(), await packageOf(peer, 'extra', agentPath('survivor')))
      expect(full.reply).toMatchObject({ AgentID: 'extra', Success: false })
      expect(full.reply!.Error).toBe('this node is full: it holds 1 agents and runs at most 1 (--max-agents); extra refused')
      expect(await filesOf(data, 'extra')).toEqual([])
      await peer.send(node.address(), new TextEncoder().encode('{"garbage": true}'))
      const limited = await peer.send(node.address(), await packageOf(peer, 'extra', agentPath('survivor')))
      expect(limited.reply).toMatchObject({ Success: false })
      expect(limited.reply!.Error).toBe('too many hand-offs from this peer: 2 in the last minute (limit 2)')
      expect((await node.agent('counter'))!.halted).toBeNull()
    } finally {
      await peer.stop()
    }
    expect(await node.stop()).toEqual({ code: 0, signal: null })
  })

  it('--max-agents below the number of --run-agent refuses the start with one line', async () => {
    const result = await runCli(['--data-dir', join(dir.path, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0', '--max-agents', '1', '--run-agent', agentPath('counter'), '--run-agent', agentPath('survivor')])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('igord: this node is full: it holds 1 agents and runs at most 1 (--max-agents); survivor refused\n')
  })
})
