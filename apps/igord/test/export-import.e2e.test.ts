// SPEC §12 "Moving an agent without the network", with real igord processes:
// `igord resume` of a copied checkpoint of a live agent is refused (issue 16
// attack 5), with or without --force while its node answers; `igord export`
// retires the agent with a complete file, `igord import` (and `igord resume`
// of the file, standalone) admits it like a migration; one owner at a time,
// and `igord verify` VALID across every data directory the agent lived in.
import { copyFile, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { decodeCheckpoint } from '@igor/checkpoint-codec'
import { decodeIdentity } from '@igor/identity'
import { formatUnixNanos } from '@igor/inspector'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes } from './harness.js'
import { SingleInstanceObserver } from './observer.js'

const { nodes, dir } = useNodes()
let observer: SingleInstanceObserver | null = null

// Registered after useNodes' hook, so it runs first: the observer stops before the nodes are killed.
afterEach(async () => {
  await observer?.stop()
  observer = null
})

const data = (name: string): string => join(dir.path, name)
const history = (dataDir: string, agentId = 'counter'): string => join(dataDir, 'checkpoints', 'history', agentId)
const identityFile = (dataDir: string, agentId = 'counter'): string => join(dataDir, 'checkpoints', `${agentId}.identity`)
const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false)

function expectValid(result: { code: number | null, stdout: string, stderr: string }, did: string): void {
  if (result.code !== 0) throw new Error(`verify failed:\n${result.stdout}${result.stderr}`)
  expect(result.stderr).toBe('')
  expect(result.stdout).toContain(`\nAgent:          ${did}\n`)
  expect(result.stdout).toMatch(/\n\nLineage: {8}VALID \(all \d+ signatures verified, chain unbroken\)\n$/)
}

describe('igord resume of a raw checkpoint (issue 16 attack 5)', () => {
  it('a copy of a live agent is refused with the one line, and with --force while its node answers; the node stays the sole owner', async () => {
    const nodeA = data('A')
    const a = await nodes.start(nodeA, ['run', agentPath('counter')]).ready()
    await ticking(a, 'counter', 2n)
    const copied = join(dir.path, 'copy.checkpoint')
    const copiedIdentity = join(dir.path, 'copy.identity')
    await copyFile(join(nodeA, 'checkpoints', 'counter.checkpoint'), copied)
    await copyFile(identityFile(nodeA), copiedIdentity)
    const checkpoint = decodeCheckpoint(await readFile(copied))
    const nodeB = data('B')
    const resume = ['resume', copied, '--wasm', agentPath('counter'), '--identity', copiedIdentity, '--data-dir', nodeB, '--listen', '/ip4/127.0.0.1/tcp/0']

    const refused = await runCli(resume)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(
      `igord: this checkpoint may belong to a live agent (epoch ${checkpoint.epoch.toString()}, lease until ${formatUnixNanos(checkpoint.leaseExpiry)}): ` +
      'export it on its node with \'igord export\', or pass --force if that node is gone for good\n'
    )
    expect(await exists(join(nodeB, 'checkpoints', 'counter.checkpoint'))).toBe(false)

    // --force asks the known peers first: A answers that it holds the agent at the same epoch or above.
    const forced = await runCli([...resume, '--force', '--peer', a.address()])
    expect(forced.code).toBe(1)
    expect(forced.stderr.trim().split('\n')).toHaveLength(1)
    expect(forced.stderr).toMatch(/^igord: peer \S+ holds counter at \(\d+,\d+\) \(ACTIVE_OWNER\), not older than this checkpoint's/)
    expect(await exists(join(nodeB, 'checkpoints', 'counter.checkpoint'))).toBe(false)

    const after = await ticking(a, 'counter', BigInt((await a.agent('counter'))!.tickNumber))
    expect(after.state).toBe('ACTIVE_OWNER')
  })
})

describe('igord verify names a fork (SPEC §12)', () => {
  it('resume --force of a live agent\'s copy with no peer to ask forks it, and verify says where', async () => {
    const [nodeA, nodeB] = [data('A'), data('B')]
    const a = await nodes.start(nodeA, ['run', agentPath('counter')]).ready()
    await ticking(a, 'counter', 2n)
    const copied = join(dir.path, 'copy.checkpoint')
    await copyFile(join(nodeA, 'checkpoints', 'counter.checkpoint'), copied)
    const tick = decodeCheckpoint(await readFile(copied)).tickNumber
    // The operator's word against the facts: nobody is asked, so nobody can say no.
    const b = await nodes.start(nodeB, ['resume', copied, '--wasm', agentPath('counter'), '--identity', identityFile(nodeA), '--force']).ready()
    await ticking(b, 'counter', tick + 1n)
    await ticking(a, 'counter', tick + 1n)
    await Promise.all([a.stop(), b.stop()]) // final checkpoints: both sides went on
    const result = await runCli(['verify', history(nodeA), history(nodeB)])
    expect(result.code).toBe(1)
    // Ours (issue 21): a checkpoint in a history segment is named by its segment file and byte offset.
    const at = (d: string): string => `${join(d, 'seg-')}\\d{10}\\.hist@\\d+`.replaceAll('/', '\\/')
    expect(result.stdout).toMatch(new RegExp(`\\n  - fork at tick ${tick}: ${at(history(nodeA))} and ${at(history(nodeB))}\\n`))
  })
})

describe('igord export / import (SPEC §12)', () => {
  it('export retires the agent with a complete 0600 file; import admits it at (M+1,0) on a running node; resume of the file starts one standalone; one owner throughout; verify VALID across all', async () => {
    const [nodeA, nodeB, nodeC] = [data('A'), data('B'), data('C')]
    const a = await nodes.start(nodeA, ['run', agentPath('counter')]).ready()
    const b = await nodes.start(nodeB).ready()
    observer = new SingleInstanceObserver({ A: a, B: b })
    await ticking(a, 'counter', 2n)
    const did = decodeIdentity(await readFile(identityFile(nodeA))).did
    const file = join(dir.path, 'counter.igor')

    const exported = await runCli(['export', 'counter', '--out', file, '--data-dir', nodeA])
    expect(exported.stderr).toBe('')
    expect(exported.code).toBe(0)
    expect(exported.stdout).toMatch(new RegExp(`^exported counter to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ bytes\\): retired here at \\((\\d+),(\\d+)\\)\\n$`))
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const retired = (await a.agent('counter'))!
    expect(retired).toMatchObject({ state: 'RETIRED', movedTo: `exported to ${file}`, halted: `retired: exported to ${file}` })
    const status = await runCli(['status', '--data-dir', nodeA])
    expect(status.stdout).toContain(`RETIRED`)
    expect(status.stdout).toContain(`retired: exported to ${file}`)
    // Nothing of the agent is left to run on A: no checkpoint, no identity; the file is never overwritten.
    expect(await exists(join(nodeA, 'checkpoints', 'counter.checkpoint'))).toBe(false)
    expect(await exists(identityFile(nodeA))).toBe(false)
    const again = await runCli(['export', 'counter', '--out', file, '--data-dir', nodeA])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^igord: .*exists; export never overwrites/)

    const imported = await runCli(['import', file, '--data-dir', nodeB])
    expect(imported.stderr).toBe('')
    expect(imported.code).toBe(0)
    const major = BigInt(retired.majorVersion) + 1n
    expect(imported.stdout).toBe(`imported counter: ACTIVE_OWNER at (${major},0)\n`)
    const onB = await ticking(b, 'counter', 0n)
    expect(BigInt(onB.majorVersion)).toBe(major)
    expect(await b.agent('counter')).toMatchObject({ state: 'ACTIVE_OWNER' })
    expect(await a.agent('counter')).toMatchObject({ state: 'RETIRED' })
    // The same file again: this node holds the agent at a newer epoch.
    const twice = await runCli(['import', file, '--data-dir', nodeB])
    expect(twice.code).toBe(1)
    expect(await ticking(b, 'counter', BigInt(onB.tickNumber))).toMatchObject({ state: 'ACTIVE_OWNER' })

    // B exports onward; C has no node running: `igord resume <file>` starts one with the agent (no --wasm needed).
    const file2 = join(dir.path, 'counter-2.igor')
    expect((await runCli(['export', 'counter', '--out', file2, '--data-dir', nodeB])).code).toBe(0)
    const c = await nodes.start(nodeC, ['resume', file2]).ready()
    const onC = await ticking(c, 'counter', 0n)
    expect(BigInt(onC.majorVersion)).toBe(major + 1n)
    await ticking(c, 'counter', BigInt(onC.tickNumber) + 1n)
    await observer.stop()
    expect(observer.violations).toEqual([])
    observer = null
    await c.stop()
    // A restart of A never brings the exported agent back.
    await a.stop()
    const a2 = await nodes.start(nodeA).ready()
    expect(await a2.agent('counter')).toMatchObject({ state: 'RETIRED' })
    await a2.stop()
    await b.stop()

    expectValid(await runCli(['verify', history(nodeA), history(nodeB), history(nodeC)]), did)
  })
})
