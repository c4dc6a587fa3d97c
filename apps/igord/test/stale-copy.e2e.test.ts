import { createHash } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { GENESIS_PREV_HASH, decodeCheckpoint, encodeCheckpoint, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { encodeAgentTransfer } from '@igor/migration'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'
import { TestPeer } from './p2p-client.js'

// Issue 16 attack 2 (SPEC §7 "A held copy yields only to a proven successor"): a stranger's package for an
// agent this node holds as RECOVERY_REQUIRED deleted its only copy. Real igord, real libp2p, a hand-made peer.

const { nodes, dir } = useNodes()
const peers: TestPeer[] = []
afterEach(async () => { for (const p of peers.splice(0)) await p.stop() })

async function filesOf(dataDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const at = join(dataDir, 'checkpoints')
  for (const name of (await readdir(at)).filter((n) => n.startsWith('counter.')).sort()) {
    out[name] = createHash('sha256').update(await readFile(join(at, name))).digest('hex')
  }
  return out
}

/** A node whose counter was paused past its lease: RECOVERY_REQUIRED, waiting for the operator. */
async function strandedByPause(): Promise<Igord> {
  const A = await nodes.start(join(dir.path, 'A'), ['--run-agent', agentPath('counter'), '--lease-duration', '2s', '--lease-grace', '500ms', '--recovery', 'manual']).ready()
  await waitFor('counter ticking', async () => {
    const a = await A.agent('counter')
    return a !== undefined && BigInt(a.tickNumber) > 0n ? a : null
  }, 60_000)
  A.signal('SIGSTOP')
  await new Promise((resolve) => setTimeout(resolve, 4000))
  A.signal('SIGCONT')
  await A.waitForLog('lease expiry', (l) => /lease expired beyond grace/.test(l.msg))
  await waitFor('RECOVERY_REQUIRED', async () => (await A.agent('counter'))?.state === 'RECOVERY_REQUIRED' ? true : null, 30_000)
  return A
}

function transfer(peer: TestPeer, wasm: Uint8Array, checkpoint: Uint8Array, epoch: Epoch, identity?: Uint8Array): Uint8Array {
  const cp = decodeCheckpoint(checkpoint)
  return encodeAgentTransfer({
    Package: {
      AgentID: 'counter',
      WASMBinary: wasm,
      WASMHash: createHash('sha256').update(wasm).digest(),
      Checkpoint: checkpoint,
      ManifestData: new Uint8Array(0),
      Budget: cp.budget,
      PricePerSecond: cp.pricePerSecond,
      MajorVersion: epoch.majorVersion,
      LeaseGeneration: epoch.leaseGeneration,
      ...(identity !== undefined ? { AgentIdentity: identity } : {})
    },
    SourceNodeID: peer.peerId
  })
}

describe('a stranger cannot supersede a copy it does not hold (issue 16 attack 2)', () => {
  it('a garbage package and a package signed by another key are refused; the RECOVERY_REQUIRED copy stays byte for byte and recovers', async () => {
    const A = await strandedByPause()
    const held = (await A.agent('counter'))!
    const before = await filesOf(A.dataDir)
    const stored = decodeCheckpoint(new Uint8Array(await readFile(join(A.dataDir, 'checkpoints', 'counter.checkpoint'))))
    const higher = new Epoch(BigInt(held.majorVersion) + 1n, 0n)
    const stranger = await TestPeer.start()
    peers.push(stranger)

    // The attack as found: a module that is not WASM, its hash and an unsigned checkpoint consistent with it.
    const garbage = new TextEncoder().encode('\0asm garbage that is no module')
    const garbageCheckpoint = encodeCheckpoint({ ...stored, epoch: higher, wasmHash: createHash('sha256').update(garbage).digest() })
    const first = await stranger.send(A.address(), transfer(stranger, garbage, garbageCheckpoint, higher))
    expect(first.reply?.Success).toBe(false)
    expect(first.reply?.Error).toMatch(/^identity mismatch with the copy held here: counter is did:key:z\S+ here, the package's checkpoint is unsigned/)

    // Well formed, the real module, signed — by a key that is not the agent's.
    const thief = AgentIdentity.generate()
    const wasm = new Uint8Array(await readFile(agentPath('counter')))
    const signed = encodeSignedCheckpoint({ ...stored, epoch: higher }, GENESIS_PREV_HASH, thief)
    const second = await stranger.send(A.address(), transfer(stranger, wasm, signed, higher, thief.toBytes()))
    expect(second.reply?.Success).toBe(false)
    expect(second.reply?.Error).toMatch(/^identity mismatch with the copy held here: .* the package is signed by did:key:z/)

    expect(await filesOf(A.dataDir)).toEqual(before)
    const after = (await A.agent('counter'))!
    expect(after.state).toBe('RECOVERY_REQUIRED')
    expect(A.logs.some((l) => /stale copy retired/.test(l.msg))).toBe(false)

    const recovered = await runCli(['recover', 'counter', '--data-dir', A.dataDir])
    expect(recovered.stderr).toBe('')
    expect(recovered.code).toBe(0)
    await waitFor('counter ticking again', async () => {
      const a = await A.agent('counter')
      return a?.state === 'ACTIVE_OWNER' && BigInt(a.tickNumber) > BigInt(held.tickNumber) ? a : null
    }, 60_000)
  })
})
