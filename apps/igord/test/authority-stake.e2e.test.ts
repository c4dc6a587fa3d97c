import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { GENESIS_PREV_HASH, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { type AuthorityAnswer, askAuthority } from '@igor/migration'
import type { StakeSigner } from '@igor/runner'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes } from './harness.js'
import type { Igord } from './harness.js'
import { TestPeer } from './p2p-client.js'

// Issue 16 attacks 3 and 4 (SPEC §7 "Authority answers are earned"), with real
// igord processes and a real libp2p peer. Each failed before the fix: any peer
// fenced any id forever at (2^64−1, 2^64−1), learned what any node held, and
// 3000 queries wrote 3000 fsynced fence files.

const { nodes, dir } = useNodes()
const MAX = (1n << 64n) - 1n
const TOP = new Epoch(MAX, MAX)

let peer: TestPeer | null = null
afterEach(async () => {
  await peer?.stop()
  peer = null
})

const fenceFiles = async (node: Igord): Promise<string[]> => readdir(join(node.dataDir, 'fences')).catch(() => [])

/** A stake signer for an agent key the test holds: the header of a checkpoint signed by it at `epoch`. */
function signerFor(identity: AgentIdentity, epoch: Epoch): StakeSigner {
  const checkpoint = encodeSignedCheckpoint({ budget: 1n, pricePerSecond: 1n, tickNumber: 1n, wasmHash: new Uint8Array(32), epoch, leaseExpiry: 0n, state: new Uint8Array(8) }, GENESIS_PREV_HASH, identity)
  return { header: checkpoint.subarray(0, 209), epoch, sign: (statement) => identity.sign(statement) }
}

describe('authority answers and fences are earned (issue 16 attacks 3, 4)', () => {
  it('a stranger\'s (2^64−1, 2^64−1) query gets `unknown` and writes no fence; the live owner still arrives afterwards', async () => {
    const A = await nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('counter')]).ready()
    const B = await nodes.start(join(dir.path, 'B')).ready()
    await ticking(A, 'counter')
    peer = await TestPeer.start()
    const unknown = { Held: 'unknown', State: null, Epoch: null, MovedTo: null, Fenced: null }
    // The live owner, a node that holds nothing, and a proof by a key that is not the agent's.
    expect(await askAuthority(peer.node, A.address(), 'counter', TOP)).toMatchObject(unknown)
    expect(await askAuthority(peer.node, B.address(), 'counter', TOP)).toMatchObject(unknown)
    expect(await askAuthority(peer.node, A.address(), 'counter', TOP, 30_000, signerFor(AgentIdentity.generate(), TOP))).toMatchObject(unknown)
    expect(await fenceFiles(A)).toEqual([])
    expect(await fenceFiles(B)).toEqual([])
    // Before the fix B now refused counter forever ("fenced at (18446744073709551615,18446744073709551615)").
    const moved = await runCli(['migrate', 'counter', '--to', B.address(), '--data-dir', A.dataDir])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    await ticking(B, 'counter')
  })

  it('3000 queries from one peer: rate-limited, answered `unknown` or RATE_LIMITED, no fence files, the node unharmed', async () => {
    const B = await nodes.start(join(dir.path, 'B'), ['--run-agent', agentPath('counter')]).ready()
    await ticking(B, 'counter')
    peer = await TestPeer.start()
    const answers: AuthorityAnswer[] = []
    const failures: string[] = []
    const ids = Array.from({ length: 3000 }, (_, i) => (i % 10 === 0 ? 'counter' : `victim-${i}`))
    // 8 streams at a time (the protocol allows 16 inbound per connection).
    for (let i = 0; i < ids.length; i += 8) {
      await Promise.all(ids.slice(i, i + 8).map(async (id) => {
        try {
          answers.push(await askAuthority(peer!.node, B.address(), id, TOP, 60_000))
        } catch (error) {
          failures.push((error as Error).message)
        }
      }))
    }
    expect(failures).toEqual([])
    const limited = answers.filter((a) => a.Held === 'error' && /^RATE_LIMITED/.test(a.Error))
    const rest = answers.filter((a) => !limited.includes(a))
    expect(rest.every((a) => a.Held === 'unknown' && a.Fenced === null)).toBe(true)
    // Burst 20, then 1 a second: whatever the machine's speed, most of 3000 are refused.
    expect(limited.length).toBeGreaterThan(2000)
    expect(await fenceFiles(B)).toEqual([])
    // One warning line per peer per minute, not one per query.
    expect(B.logs.filter((l) => /authority queries refused/.test(l.msg)).length).toBeLessThan(10)
    expect((await ticking(B, 'counter')).state).toBe('ACTIVE_OWNER')
  })

  it('a proven stake still fences, no higher than the proven epoch; `igord fences` lists it (u64 exact) and `igord unfence` lifts it, live and offline', async () => {
    const B = await nodes.start(join(dir.path, 'B')).ready()
    peer = await TestPeer.start()
    const agentKey = AgentIdentity.generate()
    const proven = new Epoch(MAX, MAX - 1n)
    // Asked at (2^64−1, 2^64−1) with a header at (2^64−1, 2^64−2): the fence stops at the proven epoch.
    const answer = await askAuthority(peer.node, B.address(), 'ghost', TOP, 30_000, signerFor(agentKey, proven))
    expect(answer).toMatchObject({ Held: 'none', Epoch: null })
    expect(answer.Fenced?.equals(proven)).toBe(true)
    expect(await fenceFiles(B)).toEqual(['ghost.json'])

    const listed = await runCli(['fences', '--json', '--data-dir', B.dataDir])
    expect(listed.stderr).toBe('')
    expect(listed.code).toBe(0)
    const [fence] = (JSON.parse(listed.stdout) as { fences: Array<Record<string, unknown>> }).fences
    expect(fence).toMatchObject({
      agentId: 'ghost',
      epoch: { majorVersion: MAX.toString(), leaseGeneration: (MAX - 1n).toString() },
      key: agentKey.publicKeyHex,
      peer: peer.peerId
    })
    expect(BigInt(fence!.expiresAtNs as string)).toBeGreaterThan(BigInt(fence!.writtenAtNs as string))
    const text = await runCli(['fences', '--data-dir', B.dataDir])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^AGENT\s+EPOCH\s+KEY\s+PEER\s+WRITTEN\s+EXPIRES\n/)
    expect(text.stdout).toContain(`ghost  (18446744073709551615,18446744073709551614)  ${agentKey.publicKeyHex.slice(0, 16)}…  ${peer.peerId}`)

    const lifted = await runCli(['unfence', 'ghost', '--data-dir', B.dataDir])
    expect(lifted.stderr).toBe('')
    expect(lifted.code).toBe(0)
    expect(lifted.stdout).toBe(`unfenced ghost: (18446744073709551615,18446744073709551614) for ${peer.peerId}\n`)
    expect(await fenceFiles(B)).toEqual([])
    expect((await runCli(['fences', '--data-dir', B.dataDir])).stdout).toBe('no fences\n')
    const again = await runCli(['unfence', 'ghost', '--data-dir', B.dataDir])
    expect(again.code).toBe(1)
    expect(again.stderr).toBe('igord: no fence for ghost on this node\n')

    // Offline, on the data directory of a stopped node.
    await askAuthority(peer.node, B.address(), 'ghost', new Epoch(3n, 0n), 30_000, signerFor(agentKey, new Epoch(3n, 0n)))
    await B.stop()
    const offline = await runCli(['fences', '--json', '--data-dir', B.dataDir])
    expect(offline.code).toBe(0)
    expect((JSON.parse(offline.stdout) as { fences: Array<{ agentId: string }> }).fences.map((f) => f.agentId)).toEqual(['ghost'])
    const offLift = await runCli(['unfence', 'ghost', '--json', '--data-dir', B.dataDir])
    expect(offLift.code).toBe(0)
    expect(JSON.parse(offLift.stdout)).toMatchObject({ unfenced: [{ agentId: 'ghost', epoch: { majorVersion: '3', leaseGeneration: '0' } }] })
    expect(await fenceFiles(B)).toEqual([])
  })
})
