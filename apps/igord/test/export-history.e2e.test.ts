// SPEC §12 "Moving an agent without the network" + "History and `igord
// verify`" (issue 21 item 2): `igord export --with-history` carries the
// agent's retained history; `igord import` on a fresh data directory restores
// it, so `igord verify` there alone says VALID; a tampered history is refused
// with one line and nothing written.
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { crc32 } from '@igor/checkpoint-codec'
import { decodeIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes } from './harness.js'

const { nodes, dir } = useNodes()

const data = (name: string): string => join(dir.path, name)
const history = (dataDir: string, agentId = 'counter'): string => join(dataDir, 'checkpoints', 'history', agentId)
const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false)

/** Offsets of the first history record of a `--with-history` file (header 32, package, segment header 24). */
function firstRecord(bytes: Uint8Array): { at: number, length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const at = 32 + Number(view.getBigUint64(24, true)) + 24
  return { at, length: view.getUint32(at, true) }
}

describe('igord export --with-history / import (issue 21 item 2)', () => {
  it('the history travels with the file; verify on the importing node alone is VALID; a tampered history is refused, nothing written', async () => {
    const [nodeA, nodeB, nodeC] = [data('A'), data('B'), data('C')]
    const a = await nodes.start(nodeA, ['run', agentPath('counter')]).ready()
    // Past the 5 s checkpoint cadence: the history holds more than the final checkpoint.
    await ticking(a, 'counter', 6n)
    const did = decodeIdentity(await readFile(join(nodeA, 'checkpoints', 'counter.identity'))).did
    const file = join(dir.path, 'counter.igor')

    const exported = await runCli(['export', 'counter', '--out', file, '--with-history', '--data-dir', nodeA])
    expect(exported.stderr).toBe('')
    expect(exported.code).toBe(0)
    const count = Number(/with (\d+) checkpoints of history/.exec(exported.stdout)?.[1])
    expect(count).toBeGreaterThan(1)
    const bytes = new Uint8Array(await readFile(file))
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('IGOREXPH')

    // Tampered copies, each refused with one line on a running node, which keeps nothing of the agent.
    const c = await nodes.start(nodeC).ready()
    const { at, length } = firstRecord(bytes)
    const torn = bytes.slice()
    torn[at + 8 + length - 1]! ^= 0xff // the first checkpoint's last signature byte; the record's checksum no longer matches
    const forged = torn.slice()
    new DataView(forged.buffer).setUint32(at + 4, crc32(forged.subarray(at + 8, at + 8 + length), crc32(forged.subarray(at, at + 4))), true) // checksum fixed: only the signature is wrong
    for (const [name, tampered, reason] of [['torn.igor', torn, /history damaged at byte \d+: checksum mismatch/], ['forged.igor', forged, /history does not verify: .*signature/i]] as const) {
      const path = join(dir.path, name)
      await writeFile(path, tampered)
      const refused = await runCli(['import', path, '--data-dir', nodeC])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/^igord: [^\n]*\n$/)
      expect(refused.stderr).toMatch(reason)
      expect(await exists(history(nodeC))).toBe(false)
      expect(await exists(join(nodeC, 'checkpoints', 'counter.checkpoint'))).toBe(false)
      expect(await c.agent('counter')).toBeUndefined()
    }
    await c.stop()

    // The file as written: a fresh node takes the agent and its history.
    const b = await nodes.start(nodeB).ready()
    const imported = await runCli(['import', file, '--data-dir', nodeB])
    expect(imported.stderr).toBe('')
    expect(imported.code).toBe(0)
    const onB = await ticking(b, 'counter', 0n)
    await ticking(b, 'counter', BigInt(onB.tickNumber) + 1n)
    await b.stop()
    await a.stop()

    const verified = await runCli(['verify', history(nodeB)])
    if (verified.code !== 0) throw new Error(`verify failed:\n${verified.stdout}${verified.stderr}`)
    expect(verified.stdout).toContain(`\nAgent:          ${did}\n`)
    expect(verified.stdout).toMatch(/\n\nLineage: {8}VALID \(all \d+ signatures verified, chain unbroken\)\n$/)
    // From the agent's first checkpoint on A: the whole chain is on B.
    const all = Number(/all (\d+) signatures/.exec(verified.stdout)?.[1])
    expect(all).toBeGreaterThanOrEqual(count)
  })
})
