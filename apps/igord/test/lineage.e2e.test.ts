// SPEC §12 with real igord processes: identity kept across restarts, kill -9
// and migrations; every history igord writes verifies VALID; `igord verify`
// says INVALID with the right lines on damaged copies; `igord resume` refuses
// what it must. Each reference flaw the issue lists has a test here.
import { copyFile, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { checkpointContentHash, decodeCheckpoint, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { AgentIdentity, decodeIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import { runCli, sleep, ticking, useNodes } from './harness.js'

const { nodes, dir } = useNodes()

const data = (name: string): string => join(dir.path, name)
const history = (dataDir: string, agentId = 'counter'): string => join(dataDir, 'checkpoints', 'history', agentId)
const identityFile = (dataDir: string, agentId = 'counter'): string => join(dataDir, 'checkpoints', `${agentId}.identity`)
const didOf = async (dataDir: string, agentId = 'counter'): Promise<string> => decodeIdentity(await readFile(identityFile(dataDir, agentId))).did
const exists = async (path: string): Promise<boolean> => stat(path).then(() => true, () => false)

async function verify(...dirs: string[]) {
  return runCli(['verify', ...dirs])
}

function expectValid(result: { code: number | null, stdout: string, stderr: string }, did: string): void {
  if (result.code !== 0) throw new Error(`verify failed:\n${result.stdout}${result.stderr}`)
  expect(result.stderr).toBe('')
  const lines = result.stdout.split('\n')
  expect(lines.slice(0, 4)).toEqual(['Checkpoint Lineage Verifier', '===========================', '', `Agent:          ${did}`])
  expect(lines[4]).toMatch(/^Public Key: {5}[0-9a-f]{64}$/)
  expect(lines[5]).toMatch(/^Checkpoints: {4}\d+$/)
  expect(lines[6]).toMatch(/^Tick Range: {5}\d+ → \d+$/)
  expect(result.stdout).toMatch(/\nExecution Segments:\n {2}\[1\] WASM [0-9a-f]{16}\.\.\. {2}ticks \d+→\d+ \(\d+ checkpoints\)\n/)
  expect(result.stdout).toMatch(/\n\nLineage: {8}VALID \(all \d+ signatures verified, chain unbroken\)\n$/)
}

describe('identity and history across restarts (igord run)', () => {
  it('a short lease (many same-tick renewals), restarts and a SIGKILL loop: one DID, a 0600 identity, a VALID history', async () => {
    const node = data('A')
    // A renewal every ~100 ms, a tick every second: many checkpoints share a tick (the reference's chain broke there).
    const lease = ['--lease-duration', '1s', '--lease-renewal-window', '0.9', '--lease-grace', '5s']
    const first = await nodes.start(node, ['run', agentPath('counter'), ...lease]).ready()
    await ticking(first, 'counter', 2n)
    const did = await didOf(node)
    expect(did).toMatch(/^did:key:z6Mk/)
    expect((await stat(identityFile(node))).mode & 0o777).toBe(0o600)
    await first.stop()

    for (let round = 0; round < 4; round++) {
      const again = await nodes.start(node, ['run', agentPath('counter'), ...lease]).ready()
      await sleep(300 + Math.floor(Math.random() * 1700))
      await again.kill() // SIGKILL at a random moment, also between a checkpoint and its history copy
    }
    const last = await nodes.start(node, ['run', agentPath('counter'), ...lease]).ready()
    await ticking(last, 'counter', 4n)
    await last.stop()

    expect(await didOf(node)).toBe(did)
    expect((await stat(identityFile(node))).mode & 0o777).toBe(0o600)
    const result = await verify(history(node))
    expectValid(result, did)
    // The newest archived checkpoint is the stored checkpoint itself (read through the reference layout export).
    const exported = data('A-export')
    expect((await runCli(['history', 'export', 'counter', exported, '--data-dir', node])).code).toBe(0)
    const files = (await readdir(exported)).filter((n) => n.endsWith('.ckpt')).sort()
    const stored = await readFile(join(node, 'checkpoints', 'counter.checkpoint'))
    expect(files[files.length - 1]).toBe(`${decodeCheckpoint(stored).tickNumber.toString().padStart(10, '0')}.ckpt`)
    expect(Buffer.compare(await readFile(join(exported, files[files.length - 1] as string)), stored)).toBe(0)
    expectValid(await verify(exported), did)
  })
})

describe('identity and history across migrations', () => {
  it('A→B→C→A keeps one DID, moves the identity file with the owner, and all three history dirs verify VALID together', async () => {
    const A = await nodes.start(data('A'), ['--run-agent', agentPath('counter'), '--lease-duration', '2s', '--lease-renewal-window', '0.8']).ready()
    const B = await nodes.start(data('B'), ['--lease-duration', '2s', '--lease-renewal-window', '0.8']).ready()
    const C = await nodes.start(data('C'), ['--lease-duration', '2s', '--lease-renewal-window', '0.8']).ready()
    let last = await ticking(A, 'counter', 1n)
    const did = await didOf(data('A'))
    for (const [from, to] of [[A, B], [B, C], [C, A]] as const) {
      const result = await runCli(['migrate', 'counter', '--to', to.address(), '--data-dir', from.dataDir])
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      last = await ticking(to, 'counter', BigInt(last.tickNumber) + 1n)
      expect(await didOf(to.dataDir)).toBe(did)
      expect(await exists(identityFile(from.dataDir))).toBe(false) // deleted only when RETIRED there
    }
    expect(await exists(identityFile(data('B')))).toBe(false)
    await A.stop()
    expectValid(await verify(history(data('A')), history(data('B')), history(data('C'))), did)
    // One node's directory alone misses the ticks lived elsewhere: the gap is caught, and named (issue 22).
    const alone = await verify(history(data('A')))
    expect(alone.code).toBe(1)
    expect(alone.stdout).toMatch(/\n {2}- history incomplete before tick \d+: it continues from another node \(epoch \(0,\d+\) → \(3,0\)\); add that node's history directory\n/)
  })
})

describe('refused hand-offs', () => {
  it('a refusal reverts the source at (M,G+1) with its chain whole, and the refusing target keeps no identity or history', async () => {
    // survivor's manifest allows at most 100000 microcents/s: B's price makes it refuse.
    const A = await nodes.start(data('A'), ['--run-agent', agentPath('survivor'), '--price-per-second', '90000']).ready()
    const B = await nodes.start(data('B'), ['--price-per-second', '200000']).ready()
    const C = await nodes.start(data('C'), ['--price-per-second', '90000']).ready()
    const before = await ticking(A, 'survivor', 1n)
    const did = await didOf(data('A'), 'survivor')
    const refused = await runCli(['migrate', 'survivor', '--to', B.address(), '--data-dir', A.dataDir])
    expect(refused.code).not.toBe(0)
    const reverted = await ticking(A, 'survivor', BigInt(before.tickNumber) + 1n)
    expect(reverted.majorVersion).toBe('0')
    expect(await exists(identityFile(data('B'), 'survivor'))).toBe(false)
    expect(await exists(history(data('B'), 'survivor'))).toBe(false)
    const moved = await runCli(['migrate', 'survivor', '--to', C.address(), '--data-dir', A.dataDir])
    expect(moved.code).toBe(0)
    await ticking(C, 'survivor', BigInt(reverted.tickNumber) + 1n)
    await C.stop()
    expectValid(await verify(history(data('A'), 'survivor'), history(data('C'), 'survivor')), did)
  })
})

describe('kill -9 during hand-offs', () => {
  it('a source killed at a random moment of a hand-off, then restarted: the histories of both nodes verify VALID', async () => {
    for (let round = 0; round < 3; round++) {
      const a = data(`A${round}`)
      const b = data(`B${round}`)
      const lease = ['--lease-duration', '2s', '--lease-renewal-window', '0.8']
      const A = await nodes.start(a, ['--run-agent', agentPath('counter'), ...lease]).ready()
      const B = await nodes.start(b, lease).ready()
      await ticking(A, 'counter', 1n)
      const did = await didOf(a)
      const migration = runCli(['migrate', 'counter', '--to', B.address(), '--data-dir', a])
      await sleep(Math.floor(Math.random() * 400))
      await A.kill()
      await migration
      const again = await nodes.start(a, lease).ready()
      await sleep(1500)
      await again.stop()
      await B.stop()
      const dirs = [history(a)]
      if (await exists(history(b))) dirs.push(history(b))
      expectValid(await verify(...dirs), did)
    }
  })
})

describe('igord verify on damaged copies', () => {
  it('says INVALID with the right lines for tampered, reordered, gapped and re-keyed histories; Error for a bad directory', async () => {
    const node = data('A')
    // Frequent renewals: a history file for every tick.
    const first = await nodes.start(node, ['run', agentPath('counter'), '--lease-duration', '1s', '--lease-renewal-window', '0.9']).ready()
    await ticking(first, 'counter', 6n)
    await first.stop()
    // The reference layout, one file per tick (igord history export), to tamper with file by file.
    const plain = data('A-plain')
    expect((await runCli(['history', 'export', 'counter', plain, '--data-dir', node])).code).toBe(0)
    const files = (await readdir(plain)).sort()
    expect(files.length).toBeGreaterThanOrEqual(5)
    const copy = async (name: string): Promise<string> => {
      const target = data(name)
      await cp(plain, target, { recursive: true })
      return target
    }
    const [, second, third, fourth] = files as [string, string, string, string]
    const tick = (name: string): string => String(Number(name.slice(0, 10)))
    const bytesOf = async (d: string, name: string): Promise<Buffer> => readFile(join(d, name))
    const short = (bytes: Uint8Array): string => `${Buffer.from(bytes.subarray(0, 8)).toString('hex')}...`

    // Tampered: one state byte of the third file.
    const tampered = await copy('tampered')
    const t3 = await bytesOf(tampered, third)
    t3[t3.length - 1] = (t3[t3.length - 1] as number) ^ 0xff
    await writeFile(join(tampered, third), t3)
    const r1 = await verify(tampered)
    expect(r1.code).toBe(1)
    expect(r1.stdout).toContain('\nLineage:        INVALID (2 errors)\n')
    expect(r1.stdout).toContain(`  - tick ${tick(third)}: INVALID signature\n`)
    expect(r1.stdout).toContain(`  - tick ${tick(fourth)}: prevHash mismatch (expected ${short(checkpointContentHash(t3))}, got ${short(checkpointContentHash(await bytesOf(plain, third)))})\n`)

    // Reordered: the second and third files swap contents.
    const reordered = await copy('reordered')
    await writeFile(join(reordered, second), await bytesOf(plain, third))
    await writeFile(join(reordered, third), await bytesOf(plain, second))
    const r2 = await verify(reordered)
    expect(r2.code).toBe(1)
    expect(r2.stdout).toContain(`  - tick ${tick(second)}: non-monotonic (prev was ${tick(third)})\n`)

    // Gapped: the third file is gone.
    const gapped = await copy('gapped')
    await rm(join(gapped, third))
    const r3 = await verify(gapped)
    expect(r3.code).toBe(1)
    expect(r3.stdout).toContain('\nLineage:        INVALID (1 errors)\n')
    expect(r3.stdout).toContain(`  - tick ${tick(fourth)}: prevHash mismatch (expected ${short(checkpointContentHash(await bytesOf(plain, second)))}, got ${short(checkpointContentHash(await bytesOf(plain, third)))})\n`)

    // Re-keyed: the fourth file re-signed by another key, chained correctly.
    const rekeyed = await copy('rekeyed')
    const original = decodeCheckpoint(await bytesOf(plain, fourth))
    const resigned = encodeSignedCheckpoint(original, original.lineage?.prevHash ?? new Uint8Array(32), AgentIdentity.generate())
    await writeFile(join(rekeyed, fourth), resigned)
    const rest = files.slice(4)
    for (const name of rest) await rm(join(rekeyed, name))
    const r4 = await verify(rekeyed)
    expect(r4.code).toBe(1)
    expect(r4.stdout.endsWith(`\nLineage:        INVALID (1 errors)\n  - tick ${tick(fourth)}: agent identity changed\n`)).toBe(true)

    // Directories that cannot be verified at all.
    const missing = await verify(data('nope'))
    expect(missing).toMatchObject({ code: 1, stdout: '' })
    expect(missing.stderr).toBe(`Error: read history directory: open ${data('nope')}: no such file or directory\n`)
    await mkdir(data('empty'))
    expect((await verify(data('empty'))).stderr).toBe(`Error: no checkpoint files found in ${data('empty')}\n`)
    // Flags before and after the positionals; igord inspect shows the lineage lines.
    const inspected = await runCli(['inspect', '--json', join(plain, fourth)])
    expect(inspected.code).toBe(0)
    expect(JSON.parse(inspected.stdout).lineage.signatureValid).toBe(true)
    const text = await runCli(['inspect', join(plain, fourth), '--wasm', agentPath('counter')])
    expect(text.stdout).toMatch(/\nSignature: {8}VALID\nHeader Size: {6}209 bytes\n/)
    expect(text.stdout).toMatch(/\nAgent DID: {8}did:key:z6Mk\S+\n$/)
  })
})

describe('igord resume <checkpoint> --wasm <wasm>', () => {
  it('refuses a missing identity (never a new key), a hash mismatch and a bad signature; resumes with --identity and the chain continues', async () => {
    const nodeA = data('A')
    const first = await nodes.start(nodeA, ['run', agentPath('counter'), '--lease-duration', '0']).ready()
    const at = await ticking(first, 'counter', 3n)
    await first.stop()
    const did = await didOf(nodeA)
    const copied = join(dir.path, 'copy.checkpoint')
    await copyFile(join(nodeA, 'checkpoints', 'counter.checkpoint'), copied)
    const nodeB = data('B')

    const noIdentity = await runCli(['resume', copied, '--wasm', agentPath('counter'), '--data-dir', nodeB, '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(noIdentity.code).toBe(1)
    expect(noIdentity.stderr.trim().split('\n')).toHaveLength(1)
    expect(noIdentity.stderr).toMatch(/^igord: .*signed \(v0x04\).*no identity file/)
    expect(await exists(identityFile(nodeB))).toBe(false) // the reference would have made up a key
    expect(await exists(join(nodeB, 'checkpoints', 'counter.checkpoint'))).toBe(false)

    const wrongWasm = await runCli(['resume', '--wasm', agentPath('survivor'), '--agent-id', 'counter', copied, '--identity', identityFile(nodeA), '--data-dir', nodeB, '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(wrongWasm.code).toBe(1)
    expect(wrongWasm.stderr).toMatch(/^igord: .*SHA-256/)

    const bad = Buffer.from(await readFile(copied))
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1
    await writeFile(join(dir.path, 'bad.checkpoint'), bad)
    const badSig = await runCli(['resume', join(dir.path, 'bad.checkpoint'), '--wasm', agentPath('counter'), '--identity', identityFile(nodeA), '--data-dir', nodeB, '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(badSig.code).toBe(1)
    expect(badSig.stderr).toMatch(/^igord: .*signature does not verify/)
    expect(await exists(join(nodeB, 'checkpoints', 'counter.checkpoint'))).toBe(false)

    // The reference's form (--checkpoint) works too.
    const resumed = await nodes.start(nodeB, ['resume', '--checkpoint', copied, '--wasm', agentPath('counter'), '--identity', identityFile(nodeA), '--lease-duration', '0', '--force']).ready()
    await ticking(resumed, 'counter', BigInt(at.tickNumber) + 2n)
    await resumed.stop()
    expect(await didOf(nodeB)).toBe(did)
    expect((await stat(identityFile(nodeB))).mode & 0o777).toBe(0o600)
    expectValid(await verify(history(nodeA), history(nodeB)), did)
  })
})
