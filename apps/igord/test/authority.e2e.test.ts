import { access, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { freePort, runCli, ticking, useNodes } from './harness.js'
import type { Igord } from './harness.js'

// Issue 12: stale copies, `igord retire`, `igord recover --ask`, and
// network-assisted recovery through /igor/authority/1.0.0, with real igord processes.

const { nodes, dir } = useNodes()

const data = (name: string): string => join(dir.path, name)
const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

/**
 * Makes `node`'s data dir look like a source that crashed in the middle of a
 * hand-off to `peer`: the checkpoint of before the hand-off, and an authority
 * record HANDOFF_PENDING naming the peer (SPEC §5 durable record).
 */
async function strandAsPending(dataDir: string, agentId: string, checkpoint: Uint8Array, module: Uint8Array, record: string, peer: string, identity?: Uint8Array): Promise<void> {
  const at = (suffix: string): string => join(dataDir, 'checkpoints', `${agentId}${suffix}`)
  // SPEC §12: a source that crashed before it learned the outcome still has the agent's identity (deleted only when RETIRED).
  if (identity !== undefined) await writeFile(at('.identity'), identity, { mode: 0o600 })
  await writeFile(at('.checkpoint'), checkpoint)
  await writeFile(at('.module'), module)
  await writeFile(at('.authority.json'), JSON.stringify({ ...JSON.parse(record) as object, state: 'HANDOFF_PENDING', peer }))
  await rm(at('.tombstone.json'), { force: true })
}

describe('stale copies and network-assisted recovery (issue 12)', () => {
  /**
   * A → B completes, but A "crashed" before it learned so: A's disk holds the
   * pre-hand-off checkpoint and HANDOFF_PENDING. A comes back RECOVERY_REQUIRED.
   */
  async function strandedSource(recovery: 'manual' | 'assisted'): Promise<{ A: Igord, B: Igord, before: string }> {
    const portB = await freePort()
    const B = await nodes.start(data('B'), ['--listen', `/ip4/127.0.0.1/tcp/${portB}`]).ready()
    let A = await nodes.start(data('A'), ['--run-agent', agentPath('counter'), '--recovery', recovery]).ready()
    await ticking(A, 'counter')
    await A.stop()
    const saved = new Uint8Array(await readFile(join(data('A'), 'checkpoints', 'counter.checkpoint')))
    const savedModule = new Uint8Array(await readFile(join(data('A'), 'checkpoints', 'counter.module')))
    const savedIdentity = new Uint8Array(await readFile(join(data('A'), 'checkpoints', 'counter.identity')))
    const savedRecord = await readFile(join(data('A'), 'checkpoints', 'counter.authority.json'), 'utf8')
    A = await nodes.start(data('A'), ['--recovery', recovery]).ready()
    await ticking(A, 'counter')
    const moved = await runCli(['migrate', 'counter', '--to', B.address(), '--data-dir', A.dataDir])
    expect(moved.code).toBe(0)
    await ticking(B, 'counter')
    await A.stop()
    await strandAsPending(data('A'), 'counter', saved, savedModule, savedRecord, B.address(), savedIdentity)
    A = await nodes.start(data('A'), ['--recovery', recovery]).ready()
    const before = JSON.parse(savedRecord) as { epoch: { majorVersion: string, leaseGeneration: string } }
    return { A, B, before: `(${before.epoch.majorVersion},${before.epoch.leaseGeneration})` }
  }

  it('manual mode: the stale copy stays RECOVERY_REQUIRED across restarts at the same epoch; `retire` is refused for the owner; `recover --ask` retires the stale copy', async () => {
    const { A, B } = await strandedSource('manual')
    const stale = (await A.agent('counter'))!
    expect(stale.state).toBe('RECOVERY_REQUIRED')
    // A restart never raises a RECOVERY_REQUIRED copy's generation.
    await A.stop()
    const again = await nodes.start(data('A'), ['--recovery', 'manual']).ready()
    const afterRestart = (await again.agent('counter'))!
    expect(afterRestart.state).toBe('RECOVERY_REQUIRED')
    expect(afterRestart.leaseGeneration).toBe(stale.leaseGeneration)

    const refused = await runCli(['retire', 'counter', '--data-dir', B.dataDir])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/ACTIVE_OWNER/)
    expect((await B.agent('counter'))!.state).toBe('ACTIVE_OWNER')

    const asked = await runCli(['recover', 'counter', '--ask', B.address(), '--data-dir', again.dataDir])
    expect(asked.stderr).toBe('')
    expect(asked.code).toBe(0)
    expect(asked.stdout).toMatch(/retired the stale copy of counter/)
    expect((await again.agent('counter'))!.state).toBe('RETIRED')
    expect(await exists(join(data('A'), 'checkpoints', 'counter.checkpoint'))).toBe(false)
    expect((await B.agent('counter'))!.state).toBe('ACTIVE_OWNER')
  })

  it('a package whose epoch supersedes a local RECOVERY_REQUIRED copy is admitted (the stale copy becomes a tombstone)', async () => {
    const { A, B } = await strandedSource('manual')
    expect((await A.agent('counter'))!.state).toBe('RECOVERY_REQUIRED')
    const back = await runCli(['migrate', 'counter', '--to', A.address(), '--data-dir', B.dataDir])
    expect(back.stderr).toBe('')
    expect(back.code).toBe(0)
    const owner = await ticking(A, 'counter')
    expect(owner.majorVersion).toBe('2')
    expect((await B.agent('counter'))!.state).toBe('RETIRED')
  })

  it('assisted mode: the source stranded mid-hand-off asks the recorded peer, finds the agent there at a higher epoch, and retires its copy — no `igord recover`', async () => {
    const { A, B } = await strandedSource('assisted')
    await A.waitForLog('assisted retire', (l) => /assisted recovery: a peer holds the agent/.test(l.msg), 60_000)
    expect((await A.agent('counter'))!.state).toBe('RETIRED')
    expect((await B.agent('counter'))!.state).toBe('ACTIVE_OWNER')
  })

  it('assisted mode: target killed in the middle of a hand-off; the source resolves through the network once the target is back', async () => {
    const portB = await freePort()
    const listenB = ['--listen', `/ip4/127.0.0.1/tcp/${portB}`]
    let B = await nodes.start(data('B'), listenB).ready()
    const A = await nodes.start(data('A'), ['--run-agent', agentPath('bigstate-16m'), '--agent-id', 'big', '--transfer-timeout', '5s']).ready()
    await ticking(A, 'big')
    const pending = runCli(['migrate', 'big', '--to', B.address(), '--data-dir', A.dataDir])
    await A.waitForLog('package on its way', (l) => l.msg === 'hand-off: sending package')
    await B.kill()
    const result = await pending
    const outcome = (await A.agent('big'))!
    if (result.code === 0) {
      // The whole package and the reply made it before the kill: nothing to resolve.
      expect(outcome.state).toBe('RETIRED')
      return
    }
    expect(outcome.state).toBe('RECOVERY_REQUIRED')
    B = await nodes.start(data('B'), listenB).ready()
    const resolved = await A.waitForLog('assisted recovery', (l) => /^assisted recovery: (no peer holds|a peer holds)/.test(l.msg), 90_000)
    const a = await A.agent('big')
    const b = await B.agent('big')
    const owners = [a, b].filter((x) => x?.state === 'ACTIVE_OWNER')
    expect(owners).toHaveLength(1)
    if (/no peer holds/.test(resolved.msg)) {
      expect(BigInt(a!.leaseGeneration)).toBeGreaterThan(BigInt(outcome.leaseGeneration))
      expect(await exists(join(data('B'), 'fences', 'big.json'))).toBe(true)
    }
  })

  it('assisted mode: a node paused past its lease with no hand-off in flight recovers once its known peers said they hold nothing', async () => {
    const B = await nodes.start(data('B')).ready()
    const A = await nodes.start(data('A'), ['--run-agent', agentPath('counter'), '--lease-duration', '2s', '--lease-grace', '500ms', '--peer', B.address()]).ready()
    const first = await ticking(A, 'counter')
    A.signal('SIGSTOP')
    await new Promise((resolve) => setTimeout(resolve, 4000))
    A.signal('SIGCONT')
    await A.waitForLog('lease expiry', (l) => /lease expired beyond grace/.test(l.msg))
    await A.waitForLog('assisted recovery', (l) => /assisted recovery: no peer holds/.test(l.msg), 60_000)
    const back = await ticking(A, 'counter')
    expect(BigInt(back.leaseGeneration)).toBeGreaterThan(BigInt(first.leaseGeneration))
    expect(await exists(join(data('B'), 'fences', 'counter.json'))).toBe(true)
  })
})
