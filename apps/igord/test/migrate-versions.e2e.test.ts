// SPEC §7 `/igor/migrate/2.0.0` with real igord: negotiated first, a 1.0.0-only node (IGORD_MIGRATE_PROTOCOLS=1.0.0,
// a stand-in for the reference) is reached and reaches others over 1.0.0, and hostile 2.0.0 messages are refused
// with a code and leave no file and no temp file.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { agentPath } from '@igor/agents'
import { MIGRATE_PROTOCOL_V2, encodeBinaryTransfer } from '@igor/migration'
import { describe, expect, it } from 'vitest'
import { runCli, ticking, useNodes, waitFor } from './harness.js'
import type { Igord } from './harness.js'
import { TestPeer } from './p2p-client.js'

const { nodes, dir } = useNodes()
const data = (name: string): string => join(dir.path, name)
const V1_ONLY = { IGORD_MIGRATE_PROTOCOLS: '1.0.0' }

async function migrate(from: Igord, agentId: string, to: Igord): Promise<void> {
  const result = await runCli(['migrate', agentId, '--to', to.address(), '--data-dir', from.dataDir])
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
}

/** The protocol the target logged for its latest accepted hand-off of `agentId`. */
async function acceptedOver(node: Igord, agentId: string, count: number): Promise<unknown> {
  const accepted = await waitFor(`hand-off ${count} accepted`, () => {
    const lines = node.logs.filter((l) => l.msg === 'hand-off accepted' && l.agentId === agentId)
    return lines.length >= count ? lines : null
  })
  return accepted[count - 1]?.protocol
}

async function listAll(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true }).catch(() => [] as string[])
  return entries.map(String).sort()
}

describe('/igor/migrate/2.0.0 between real nodes (SPEC §7)', () => {
  it('two current nodes hand off over 2.0.0; a 1.0.0-only node is reached, and reaches them, over 1.0.0', async () => {
    const A = nodes.start(data('A'), ['--run-agent', agentPath('survivor')])
    const B = nodes.start(data('B'))
    const C = nodes.start(data('C'), [], V1_ONLY)
    await Promise.all([A.ready(), B.ready(), C.ready()])
    let status = await ticking(A, 'survivor', 1n)

    await migrate(A, 'survivor', B) // both speak 2.0.0
    expect(await acceptedOver(B, 'survivor', 1)).toBe('2.0.0')
    status = await ticking(B, 'survivor', BigInt(status.tickNumber))
    expect(status.majorVersion).toBe('1')

    await migrate(B, 'survivor', C) // B offers 2.0.0 first; C only speaks 1.0.0
    expect(await acceptedOver(C, 'survivor', 1)).toBe('1.0.0')
    expect(A.logs.find((l) => l.msg === 'hand-off: sending package')?.protocol).toBe('/igor/migrate/2.0.0')
    expect(B.logs.find((l) => l.msg === 'hand-off: sending package')?.protocol).toBe('/igor/migrate/1.0.0')
    status = await ticking(C, 'survivor', BigInt(status.tickNumber))

    await migrate(C, 'survivor', A) // C offers 1.0.0 only; A serves both
    expect(await acceptedOver(A, 'survivor', 1)).toBe('1.0.0')
    status = await ticking(A, 'survivor', BigInt(status.tickNumber))
    expect(status.majorVersion).toBe('3')
  })

  it('hostile 2.0.0 messages: each refused with a code, no file and no temp file left', async () => {
    const B = nodes.start(data('B'))
    await B.ready()
    const peer = await TestPeer.start()
    try {
      const before = await listAll(join(B.dataDir, 'checkpoints'))
      const u32 = (n: number): Uint8Array => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return new Uint8Array(b) }
      const parts = encodeBinaryTransfer({
        Package: {
          AgentID: 'hostile', WASMBinary: new Uint8Array(4096), WASMHash: new Uint8Array(32), Checkpoint: new Uint8Array(100_000),
          ManifestData: new Uint8Array(0), Budget: 1n, PricePerSecond: 1n, MajorVersion: 1n, LeaseGeneration: 0n
        },
        SourceNodeID: peer.peerId
      })
      const whole = Buffer.concat(parts)
      const header = Buffer.from(parts[1] as Uint8Array).toString('utf8')
      const mismatch = Buffer.from(header.replace('"Checkpoint":100000', '"Checkpoint":100001'))
      const huge = Buffer.from(header.replace('"Checkpoint":100000', '"Checkpoint":4294967295'))
      const cases: Array<[string, Uint8Array, string]> = [
        ['header length 2^32-1', Buffer.concat([u32(0xffffffff), Buffer.from('{')]), 'TRANSFER_TOO_LARGE'],
        ['garbage JSON header', Buffer.concat([u32(5), Buffer.from('{"x":'), ...parts.slice(2)]), 'BAD_TRANSFER'],
        ['a section length that disagrees with the header', Buffer.concat([u32(mismatch.length), mismatch, ...parts.slice(2)]), 'BAD_TRANSFER'],
        ['a section larger than the transfer cap', Buffer.concat([u32(huge.length), huge]), 'TRANSFER_TOO_LARGE'],
        ['a truncated section', whole.subarray(0, whole.length - 50_000), 'TRANSFER_TRUNCATED'],
        ['a section checked by the node: the hash', whole, 'HASH_MISMATCH']
      ]
      for (const [what, bytes, code] of cases) {
        const { reply, error } = await peer.send(B.address(), bytes, { protocol: MIGRATE_PROTOCOL_V2 })
        expect({ what, error, success: reply?.Success, code: reply?.Code }).toEqual({ what, error: null, success: false, code })
      }
      expect(await listAll(join(B.dataDir, 'checkpoints'))).toEqual(before)
    } finally {
      await peer.stop()
    }
  })
})
