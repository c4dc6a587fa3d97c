// SPEC §15 receipts on a real node: one open receipt per stay, signed with the node's libp2p key, and
// conservation at every crash point. A ticking agent's igord is killed with SIGKILL 8 times — right
// after its checkpoint file is replaced, with the receipts write then undone so the crash state is
// certainly "checkpoint written, receipts not"; right after the receipts write; at a random moment —
// and restarted; after each restart the inspector's audit of the receipts against the durable
// checkpoint, with the budget the agent started with, is VALID: nothing charged twice, nothing lost.
// `igord receipts` then says VALID; and an A → B → A trip carries Package.Receipts both ways.
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { decodeCheckpoint, decodeReceipts } from '@igor/checkpoint-codec'
import { auditReceipts } from '@igor/inspector'
import { describe, expect, it } from 'vitest'
import { runCli, sleep, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'

const { nodes, dir } = useNodes()

/** `--budget 1000` units = 1000 × 10^6 microcents. */
const BUDGET = 1_000_000_000n
const KILLS = 8

const files = (dataDir: string): { receipts: string, checkpoint: string } => ({
  receipts: join(dataDir, 'checkpoints', 'counter.receipts'),
  checkpoint: join(dataDir, 'checkpoints', 'counter.checkpoint')
})

/** The file's identity: an atomic replace gives it a new inode. */
const identity = (path: string): string => {
  try {
    const s = statSync(path)
    return `${s.ino}:${s.mtimeMs}`
  } catch {
    return 'absent'
  }
}

/** Reads both files with the node stopped (SIGSTOP), so the pair is the one the node holds. */
function readPaused(node: Igord): { receipts: Uint8Array, checkpoint: Uint8Array } {
  const paths = files(node.dataDir)
  node.signal('SIGSTOP')
  try {
    return { receipts: readFileSync(paths.receipts), checkpoint: readFileSync(paths.checkpoint) }
  } finally {
    node.signal('SIGCONT')
  }
}

/** Polls (1 ms) until `path` is replaced, then kills the node at once. */
async function killAfterWriteOf(node: Igord, path: string): Promise<void> {
  const before = identity(path)
  await waitFor(`${path} replaced`, () => identity(path) !== before ? true : null, 60_000)
  await node.kill()
}

describe('receipts across kill -9 (SPEC §15 conservation)', () => {
  it(`${KILLS} SIGKILLs at random moments: after each restart the audit against the checkpoint is VALID; igord receipts says VALID`, async () => {
    const dataDir = join(dir.path, 'A')
    const args = ['--run-agent', agentPath('counter'), '--budget', '1000', '--log-level', 'debug']
    let crashStatesBehind = 0
    let forcedRounds = 0
    let peerId = ''
    for (let round = 0; round <= KILLS; round++) {
      const node = await nodes.start(dataDir, args).ready()
      peerId = String(node.logs.find((l) => l.msg.startsWith('listening on'))?.peerId)
      // Right after a (re)start the stay has begun: the receipts were repaired and written before the agent loaded.
      const { receipts, checkpoint } = readPaused(node)
      const audit = auditReceipts({ receipts, checkpoint, initialBudget: BUDGET })
      if (!audit.valid) throw new Error(`round ${round}: INVALID after restart:\n${audit.problems.join('\n')}`)
      expect(audit.receipts.every((r) => r.nodeId === peerId)).toBe(true)
      if (round === KILLS) {
        await ticking(node, 'counter', decodeCheckpoint(checkpoint).tickNumber + 2n)
        await node.stop()
        break
      }
      await ticking(node, 'counter')
      const paths = files(dataDir)
      const forced = round % 3 === 0
      switch (round % 3) {
        case 0: {
          // Killed between the checkpoint write and the receipts write, made certain: the receipts as they
          // were before the checkpoint are put back after the kill (the receipts write lost by the crash).
          const before = readFileSync(paths.receipts)
          await killAfterWriteOf(node, paths.checkpoint)
          writeFileSync(paths.receipts, before)
          break
        }
        case 1: await killAfterWriteOf(node, paths.receipts); break
        default: await sleep(Math.floor(Math.random() * 7000)); await node.kill()
      }
      // The crash state: the receipts may be behind their checkpoint (repaired at the next start), never ahead.
      const crashed = decodeReceipts(readFileSync(paths.receipts)).at(-1)
      const durable = decodeCheckpoint(readFileSync(paths.checkpoint))
      expect(crashed).toBeDefined()
      expect(crashed!.budgetAfter).toBeGreaterThanOrEqual(durable.budget)
      if (crashed!.budgetAfter !== durable.budget) crashStatesBehind++
      if (forced) {
        forcedRounds++
        expect(crashed!.budgetAfter).toBeGreaterThan(durable.budget) // behind: the restart must recompute it
      }
    }
    console.log(`receipts e2e: ${crashStatesBehind} of ${KILLS} crash states had the receipts behind their checkpoint (${forcedRounds} made certain)`)
    expect(forcedRounds).toBe(3)

    // SPEC §15 audit through the CLI, on the files of the stopped node.
    const text = await runCli(['receipts', 'counter', '--data-dir', dataDir])
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/\nReceipts: VALID \(\d+ receipts from 1 nodes, charged \d+, paid 0\)\n$/)
    expect(text.stdout).toContain(peerId)
    const json = await runCli(['receipts', 'counter', '--data-dir', dataDir, '--json'])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as { valid: boolean, conservation: { ok: boolean, initialBudget: string } }
    expect(report.valid).toBe(true)
    expect(report.conservation.ok).toBe(true)
    expect(BigInt(report.conservation.initialBudget)).toBe(BUDGET)
    // One receipt per stay, not per checkpoint: at most one per start.
    const list = decodeReceipts(readFileSync(files(dataDir).receipts))
    expect(list.length).toBeLessThanOrEqual(KILLS + 2)
  }, 600_000)

  it('A → B → A: Package.Receipts travels and verifies; igord receipts on A shows both nodes, costs adding up to what the budget lost', async () => {
    const args = ['--run-agent', agentPath('counter'), '--budget', '1000']
    const A = await nodes.start(join(dir.path, 'A'), args).ready()
    const B = await nodes.start(join(dir.path, 'B')).ready()
    const idOf = (node: Igord): string => String(node.logs.find((l) => l.msg.startsWith('listening on'))?.peerId)
    await ticking(A, 'counter', 2n)
    const there = await runCli(['migrate', 'counter', '--to', B.address(), '--data-dir', A.dataDir])
    expect(there.stderr).toBe('')
    expect(there.code).toBe(0)
    await ticking(B, 'counter', BigInt((await B.agent('counter'))?.tickNumber ?? '0') + 2n)
    const back = await runCli(['migrate', 'counter', '--to', A.address(), '--data-dir', B.dataDir])
    expect(back.stderr).toBe('')
    expect(back.code).toBe(0)
    await ticking(A, 'counter', BigInt((await A.agent('counter'))?.tickNumber ?? '0') + 2n)
    await A.stop()
    await B.stop()
    const json = await runCli(['receipts', 'counter', '--data-dir', A.dataDir, '--json'])
    const report = JSON.parse(json.stdout) as { valid: boolean, problems: string[], nodes: Array<{ nodeId: string }>, conservation: { ok: boolean, initialBudget: string } }
    expect(report.problems).toEqual([])
    expect(json.code).toBe(0)
    expect(report.nodes.map((n) => n.nodeId).sort()).toEqual([idOf(A), idOf(B)].sort())
    expect(report.conservation.ok).toBe(true)
    expect(BigInt(report.conservation.initialBudget)).toBe(BUDGET)
    const text = await runCli(['receipts', 'counter', '--data-dir', A.dataDir])
    expect(text.stdout).toMatch(/\nReceipts: VALID \(\d+ receipts from 2 nodes, charged \d+, paid 0\)\n$/)
  }, 300_000)

  it('igord receipts: an agent without receipts is a one-line failure (exit 1)', async () => {
    const result = await runCli(['receipts', 'nobody', '--data-dir', join(dir.path, 'empty')])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/^igord: .*nobody\.receipts/)
  })
})
