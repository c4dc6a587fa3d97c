import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, sleep, useNodes, waitFor } from './harness.js'

// SPEC §11 "Resources an agent controls" (issue 17 finding 6): history within the agent's disk quota,
// oldest first, still verifiable from its anchor; arrivals refused below the node's free-space floor.

const { nodes, dir } = useNodes()

describe('disk quotas', () => {
  it('a 1 MiB-state agent checkpointing every second keeps its history under a 3 MiB quota, and verify is VALID from the anchor', async () => {
    const data = join(dir.path, 'A')
    const history = join(data, 'checkpoints', 'history', 'bigstate-1m')
    // A renewal (and so a checkpoint) about every 200 ms, a tick a second: a new history file every second.
    const node = await nodes.start(data, ['run', agentPath('bigstate-1m'), '--agent-disk-quota', '3MiB', '--lease-duration', '1s', '--lease-renewal-window', '0.8']).ready()
    await node.waitForLog('a prune', (l) => /history pruned to the agent disk quota/.test(l.msg), 60_000)
    const seen: number[] = []
    for (let i = 0; i < 6; i++) {
      await sleep(500)
      const names = (await readdir(history)).filter((n) => n.endsWith('.hist') || n.endsWith('.ckpt'))
      let bytes = 0
      for (const name of names) bytes += (await stat(join(history, name)).catch(() => ({ size: 0 }))).size
      seen.push(bytes)
    }
    await node.stop()
    const checkpoint = (await stat(join(data, 'checkpoints', 'bigstate-1m.checkpoint'))).size
    // History plus the checkpoint within the quota (one file may be mid-replacement when sampled: + one file).
    for (const bytes of seen) expect(bytes + checkpoint).toBeLessThanOrEqual(3 * 1024 * 1024 + checkpoint)
    const segments = (await readdir(history)).filter((n) => n.endsWith('.hist')).sort()
    expect(segments.length).toBeGreaterThanOrEqual(1)
    expect(segments[0]).not.toBe('seg-0000000000.hist') // the genesis is gone: the oldest checkpoint left is the anchor
    const verified = await runCli(['verify', history])
    expect(verified.stderr).toBe('')
    expect(verified.stdout).toMatch(/\nLineage: {8}VALID from tick [1-9]\d* \(earlier history pruned\)\n$/)
    expect(verified.code).toBe(0)
  })

  it('a node below its free-space floor refuses an arrival with NODE_FULL; the source keeps the agent', async () => {
    const A = await nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('counter')]).ready()
    const B = await nodes.start(join(dir.path, 'B'), ['--min-free-disk', '1000TiB']).ready()
    await waitFor('counter ticking', async () => BigInt((await A.agent('counter'))?.tickNumber ?? '0') > 0n ? true : null, 60_000)
    const moved = await runCli(['migrate', 'counter', '--to', B.address(), '--data-dir', A.dataDir])
    expect(moved.code).toBe(1)
    expect(moved.stderr).toMatch(/this node's disk is full: .* MiB free in the data dir, the floor is 1048576000\.0 MiB \(--min-free-disk\); counter refused/)
    expect((await A.agent('counter'))?.state).toBe('ACTIVE_OWNER')
    expect(await B.agent('counter')).toBeUndefined()
  })
})
