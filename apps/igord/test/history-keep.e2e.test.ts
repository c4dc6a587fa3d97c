// SPEC §12 history (ours, issue 21 item 2): append-only segments with
// `--history-keep`; `igord verify` over a pruned history says where it starts;
// `igord history export` writes the reference layout, which verifies too.
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes } from './harness.js'

const { nodes, dir } = useNodes()

describe('--history-keep and igord history export', () => {
  it('an agent kept to its newest 4 checkpoints: segments, a pruning marker, verify VALID from the anchor, and an export that verifies the same', async () => {
    const data = join(dir.path, 'A')
    const history = join(data, 'checkpoints', 'history', 'counter')
    // A renewal (and so a checkpoint) about every 100 ms, a tick a second: several records per tick.
    const node = await nodes.start(data, ['run', agentPath('counter'), '--history-keep', '4', '--lease-duration', '1s', '--lease-renewal-window', '0.9']).ready()
    await node.waitForLog('a prune', (l) => /history pruned to --history-keep/.test(l.msg), 120_000)
    await ticking(node, 'counter', 10n)
    await node.stop()

    const names = await readdir(history)
    expect(names.filter((n) => n.endsWith('.ckpt'))).toEqual([])
    expect(names.filter((n) => n.endsWith('.hist')).length).toBeLessThanOrEqual(4)
    expect(names).toContain('pruned.json')
    const anchor = BigInt((JSON.parse(await readFile(join(history, 'pruned.json'), 'utf8')) as { anchorTick: string }).anchorTick)
    expect(anchor).toBeGreaterThan(0n)

    const verified = await runCli(['verify', history])
    expect(verified.stderr).toBe('')
    expect(verified.code).toBe(0)
    const from = /\nLineage: {8}VALID from tick (\d+) \(earlier history pruned\)\n$/.exec(verified.stdout)
    expect(from).not.toBeNull()
    const first = BigInt(from![1]!)
    expect(first).toBeLessThanOrEqual(anchor)
    expect(verified.stdout).toMatch(/^Checkpoint Lineage Verifier\n===========================\n\nAgent: {10}did:key:z6Mk\S+\nPublic Key: {5}[0-9a-f]{64}\nCheckpoints: {4}\d+\nTick Range: {5}\d+ → \d+\n/)
    const json = JSON.parse((await runCli(['verify', history, '--json'])).stdout) as { valid: boolean, prunedFrom: string | null }
    expect(json).toMatchObject({ valid: true, prunedFrom: first.toString() })

    const out = join(dir.path, 'reference')
    const exported = await runCli(['history', 'export', 'counter', out, '--data-dir', data])
    expect(exported.stderr).toBe('')
    expect(exported.code).toBe(0)
    expect(exported.stdout).toMatch(/^wrote \d+ checkpoints of counter \(ticks \d+ → \d+, earlier history pruned\) to /)
    const files = (await readdir(out)).filter((n) => n.endsWith('.ckpt')).sort()
    expect(files.length).toBeGreaterThanOrEqual(4)
    expect(files[0]).toBe(`${first.toString().padStart(10, '0')}.ckpt`)
    const again = await runCli(['verify', out])
    expect(again.code).toBe(0)
    expect(again.stdout).toBe(verified.stdout)

    // Without the marker, the same files are a history whose start is missing.
    const bare = join(dir.path, 'bare')
    expect((await runCli(['history', 'export', 'counter', bare, '--data-dir', data])).code).toBe(0)
    await rm(join(bare, 'pruned.json'))
    const missing = await runCli(['verify', bare])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toMatch(new RegExp(`\\n {2}- history incomplete before tick ${first}: its first checkpoint continues an earlier one`))
  })

  it('history export refuses what it cannot do, with one line', async () => {
    const none = await runCli(['history', 'export', 'ghost', join(dir.path, 'x'), '--data-dir', join(dir.path, 'empty')])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^igord: no history for ghost in /)
    const usage = await runCli(['history', 'list'])
    expect(usage.code).not.toBe(0)
    expect(usage.stderr).toMatch(/unknown history action "list"/)
    const bad = await runCli(['run', agentPath('counter'), '--history-keep', 'forever', '--data-dir', join(dir.path, 'B')])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/--history-keep: expected all, a duration like 7d or 36h, or a count of checkpoints like 1000/)
  })
})
