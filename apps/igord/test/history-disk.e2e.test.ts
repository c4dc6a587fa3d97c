// SPEC §12 history stays verifiable, §5 checkpoints untouched (ours, issue 21
// "done means"): the node-wide history disk guard in a running igord, made to
// see a full disk by the test-only IGOR_TEST_STATFS_FREE hook. Three agents'
// histories are pruned to their newest segments, the node says so once and in
// `igord status`, the agents keep ticking, and `igord verify` says VALID from
// the new anchor for each.
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath, manifestPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, scrapeMetrics, ticking, useNodes, waitFor } from './harness.js'

const { nodes, dir } = useNodes()
const IDS = ['big-a', 'big-b', 'big-c']

describe('--history-min-free (the history disk guard)', () => {
  it('below the watermark, a running node prunes every agent\'s oldest history, keeps the newest segments and checkpoints, and verify is VALID from the anchor', async () => {
    const agents = join(dir.path, 'agents')
    await mkdir(agents)
    for (const id of IDS) {
      await copyFile(agentPath('bigstate-1m'), join(agents, `${id}.wasm`))
      await copyFile(manifestPath('bigstate-1m'), join(agents, `${id}.manifest.json`))
    }
    const data = join(dir.path, 'A')
    // 1 MiB states, a renewal (and so a checkpoint) about every 400 ms: a 4 MiB segment (an eighth of the 32 MiB quota) every couple of seconds.
    const node = await nodes.start(data, [
      '--run-agents', agents, '--agent-disk-quota', '32MiB', '--history-min-free', '1GiB', '--lease-duration', '2s', '--lease-renewal-window', '0.8'
    ], { IGOR_TEST_STATFS_FREE: '4096' }).ready()
    const history = (id: string): string => join(data, 'checkpoints', 'history', id)
    await node.waitForLog('a guard round', (l) => /^history pruned to keep free disk/.test(l.msg), 120_000)
    // Every agent pruned by the guard (its marker written), each down to its newest segment at that moment.
    await waitFor('every agent pruned', async () => {
      for (const id of IDS) if (!(await readdir(history(id))).includes('pruned.json')) return null
      return true
    }, 120_000)
    const warned = await node.waitForLog('the warning', (l) => /every agent's history is down to its newest segment/.test(l.msg), 60_000)
    expect(warned.level).toBe(40)
    const status = await runCli(['status', '--data-dir', data])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(/\ndisk short: 4096 bytes free, below --history-min-free \(1073741824\) since \S+; every agent's history is down to its newest segment\n/)
    const pruned = /\nigor_history_disk_pruned_bytes_total (\d+)\n/.exec(await scrapeMetrics(data))
    expect(Number(pruned?.[1])).toBeGreaterThan(0)
    // Checkpoints go on.
    for (const id of IDS) {
      const at = BigInt((await node.agent(id))?.tickNumber ?? '0')
      await ticking(node, id, at)
    }
    await node.stop()

    const rounds = node.logs.filter((l) => /^history pruned to keep free disk/.test(l.msg))
    expect(rounds.every((l) => Number(l.bytes) > 0 && Number(l.files) > 0 && Number(l.agents) > 0)).toBe(true)
    expect(node.logs.filter((l) => /every agent's history is down to its newest segment/.test(l.msg))).toHaveLength(1)
    for (const id of IDS) {
      // The checkpoint is untouched; the history keeps at least its newest segment.
      expect((await stat(join(data, 'checkpoints', `${id}.checkpoint`))).size).toBeGreaterThan(1024 * 1024)
      expect((await readdir(history(id))).filter((n) => n.endsWith('.hist')).length).toBeGreaterThanOrEqual(1)
      const anchor = BigInt((JSON.parse(await readFile(join(history(id), 'pruned.json'), 'utf8')) as { anchorTick: string }).anchorTick)
      const verified = await runCli(['verify', history(id)])
      expect(verified.stderr).toBe('')
      expect(verified.code).toBe(0)
      const from = /\nLineage: {8}VALID from tick (\d+) \(earlier history pruned\)\n$/.exec(verified.stdout)
      expect(from).not.toBeNull()
      expect(BigInt(from![1]!)).toBeLessThanOrEqual(anchor)
    }
  })
})
