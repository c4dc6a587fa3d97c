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
import { decodeCheckpoint, decodeReceipts, ed25519PeerId, encodeReceipt, encodeReceipts, signReceipt } from '@igor/checkpoint-codec'
import { decodeAgentTransfer, encodeAgentTransfer } from '@igor/migration'
import { AgentIdentity } from '@igor/identity'
import { auditReceipts } from '@igor/inspector'
import { describe, expect, it } from 'vitest'
import { runCli, sleep, ticking, useNodes, waitFor } from './harness.js'
import { TestPeer } from './p2p-client.js'
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
    // --receipts-write-every 10s: periodic checkpoints put the receipts write off for up to 10 s (issue 21), so
    // crash states with the file behind by a checkpoint or two occur too; the restart repairs them all the same.
    const args = ['--run-agent', agentPath('counter'), '--budget', '1000', '--log-level', 'debug', '--receipts-write-every', '10s']
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

  it('issue 21: on a running node the receipts file lags its checkpoint; igord receipts has it written first and audits one state: VALID', async () => {
    const dataDir = join(dir.path, 'live')
    const node = await nodes.start(dataDir, ['--run-agent', agentPath('counter'), '--budget', '1000']).ready()
    const paths = files(dataDir)
    await ticking(node, 'counter')
    // A periodic checkpoint (every 5 s) after the stay's start: its receipts write is put off (default 60 s).
    const started = identity(paths.checkpoint)
    await waitFor('a periodic checkpoint', () => identity(paths.checkpoint) !== started ? true : null, 60_000)
    const paused = readPaused(node)
    const lagging = decodeReceipts(paused.receipts).at(-1)!
    expect(lagging.epochEnd).toBeLessThan(decodeCheckpoint(paused.checkpoint).tickNumber) // behind, never ahead
    const text = await runCli(['receipts', 'counter', '--data-dir', dataDir])
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/\nReceipts: VALID \(1 receipts from 1 nodes, charged \d+, paid 0\)\n$/)
    const written = decodeReceipts(readFileSync(paths.receipts)).at(-1)!
    expect(written.epochEnd).toBeGreaterThan(lagging.epochEnd) // the node wrote it for the audit
    // A clean stop writes the receipts with the final checkpoint: the pair on disk agrees.
    await node.stop()
    const audit = auditReceipts({ receipts: readFileSync(paths.receipts), checkpoint: readFileSync(paths.checkpoint), initialBudget: BUDGET })
    if (!audit.valid) throw new Error(`INVALID after a clean stop:\n${audit.problems.join('\n')}`)
  }, 120_000)

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

  it('hostile Package.Receipts (tampered, signed by a key not its peer id, garbled, huge, not base64) are refused with the reason; the genuine list is kept', async () => {
    const A = await nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('counter'), '--budget', '1000']).ready()
    const B = await nodes.start(join(dir.path, 'B')).ready()
    await ticking(A, 'counter', 2n)
    const file = join(dir.path, 'counter.igorpkg')
    const exported = await runCli(['export', 'counter', '--out', file, '--data-dir', A.dataDir])
    expect(exported.stderr).toBe('')
    await A.stop()
    const transfer = decodeAgentTransfer(readFileSync(file))
    const genuine = Buffer.from(JSON.parse((transfer.Package.Receipts as { json: string }).json) as string, 'base64')
    const list = decodeReceipts(genuine)
    expect(list.length).toBeGreaterThan(0)
    const last = list.at(-1)!
    const tampered = Buffer.from(encodeReceipt(last))
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 0x80
    const forger = AgentIdentity.fromSeed(new Uint8Array(32).fill(9))
    const foreign = signReceipt({ ...last, nodeId: ed25519PeerId(AgentIdentity.fromSeed(new Uint8Array(32).fill(8)).publicKey) }, (d) => forger.sign(d))
    const huge = Buffer.alloc(8)
    huge.writeUInt32LE(0x7fffffff, 0)
    const framed = (items: Uint8Array[]): Buffer => Buffer.concat([Buffer.from(new Uint32Array([items.length]).buffer), ...items.flatMap((i) => [Buffer.from(new Uint32Array([i.length]).buffer), Buffer.from(i)])])
    const peer = await TestPeer.start()
    try {
      const send = async (receipts: unknown): Promise<string> => {
        const bytes = encodeAgentTransfer({ Package: { ...transfer.Package, Receipts: receipts }, SourceNodeID: peer.peerId })
        const { reply } = await peer.send(B.address(), bytes)
        expect(reply).toMatchObject({ AgentID: 'counter', Success: false })
        expect(await B.agent('counter')).toBeUndefined()
        return reply!.Error
      }
      expect(await send(framed([...list.slice(0, -1).map(encodeReceipt), tampered]).toString('base64'))).toMatch(/Package\.Receipts of counter: receipt \d+ \(ticks \d+…\d+\): /)
      expect(await send(Buffer.from(encodeReceipts([...list.slice(0, -1), foreign])).toString('base64'))).toMatch(/Package\.Receipts of counter: receipt \d+/)
      expect(await send(Buffer.from([1, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5]).toString('base64'))).toMatch(/Package\.Receipts of counter: /)
      expect(await send(huge.toString('base64'))).toMatch(/Package\.Receipts: more than 100000 receipts/) // refused by the wire decoder, before decoding
      expect(await send(12)).toMatch(/Package\.Receipts: expected a base64 string, got number/)
      // The genuine list is accepted and kept: B's audit shows A's stay.
      const { reply } = await peer.send(B.address(), encodeAgentTransfer({ Package: transfer.Package, SourceNodeID: peer.peerId }))
      expect(reply).toMatchObject({ AgentID: 'counter', Success: true })
    } finally {
      await peer.stop()
    }
    await ticking(B, 'counter', last.epochEnd + 2n)
    await B.stop()
    const audit = await runCli(['receipts', 'counter', '--data-dir', B.dataDir])
    expect(audit.stdout).toMatch(/\nReceipts: VALID \(\d+ receipts from 2 nodes, charged \d+, paid 0\)\n$/)
    expect(audit.code).toBe(0)
  }, 300_000)

  it('igord receipts: an agent without receipts is a one-line failure (exit 1)', async () => {
    const result = await runCli(['receipts', 'nobody', '--data-dir', join(dir.path, 'empty')])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/^igord: .*nobody\.receipts/)
  })
})
