import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeAgentStarted, MIGRATE_PROTOCOL, openStream, readJsonMessage } from '@igor/migration'
import type { AgentStarted } from '@igor/migration'
import { useNodes } from './harness.js'
import type { Igord } from './harness.js'
import { TestPeer } from './p2p-client.js'

/**
 * Issue 16 point 1 (SPEC §7 "What a peer can and cannot do"): no package a
 * peer sends can run the node out of heap. Real igord processes with a
 * 512 MiB heap receive the two hostile packages of the issue — 180 MB whose
 * unknown key holds 90 million zeros, and 4.5 million replay entries — over
 * real libp2p streams, generated as they are sent.
 */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=512' }
const GIB = 1024 * 1024 * 1024
const CHUNK = 1024 * 1024
const enc = (text: string): Uint8Array => new TextEncoder().encode(text)

/** `count` copies of `unit`, then `last`, in ~1 MiB chunks (one buffer, reused). */
async function * repeated(unit: string, count: number, head: string, last: string): AsyncGenerator<Uint8Array> {
  yield enc(head)
  const perChunk = Math.max(1, Math.floor(CHUNK / unit.length))
  const chunk = enc(unit.repeat(perChunk))
  let left = count
  while (left >= perChunk) {
    yield chunk
    left -= perChunk
    await Promise.resolve()
  }
  if (left > 0) yield enc(unit.repeat(left))
  yield enc(last)
}

/** Sends `parts` on a migrate stream while reading the reply (the node may answer before the last byte). */
async function send(peer: TestPeer, address: string, parts: AsyncIterable<Uint8Array>): Promise<{ reply: AgentStarted | null, error: string | null, sent: number }> {
  const stream = await openStream(peer.node, address, MIGRATE_PROTOCOL)
  let sent = 0
  const counted = (async function * () { for await (const part of parts) { sent += part.byteLength; yield part } })()
  void stream.sink(counted).catch(() => undefined)
  try {
    const raw = await readJsonMessage(stream.source, { maxBytes: 65536, timeoutMs: 600_000 })
    return { reply: decodeAgentStarted(raw), error: null, sent }
  } catch (error) {
    return { reply: null, error: (error as Error).message, sent }
  } finally {
    try { stream.abort(new Error('done')) } catch { /* closed */ }
  }
}

/** Resident and peak resident set of a process, bytes (`/proc/<pid>/status`). */
async function memory(pid: number): Promise<{ rss: number, peak: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await allFiles(path))
    else out.push(path)
  }
  return out
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`

async function expectUnharmed(node: Igord, dataDir: string, agentId: string, filesBefore: readonly string[]): Promise<{ rss: number, peak: number }> {
  // Alive and answering.
  expect(node.pid).toBeGreaterThan(0)
  const status = await node.status()
  expect(status.agents.find((a) => a.agentId === agentId)).toBeUndefined()
  // Nothing written for it, no temp file left.
  const files = await allFiles(dataDir)
  expect(files.filter((f) => f.endsWith('.tmp') || f.includes('.tmp-'))).toEqual([])
  expect(files.filter((f) => f.includes(agentId))).toEqual([])
  expect(files.filter((f) => !filesBefore.includes(f) && f.includes('checkpoints'))).toEqual([])
  return memory(node.pid)
}

describe('a hostile peer cannot run a node out of memory (issue 16 point 1)', () => {
  const { nodes, dir } = useNodes()

  it('refuses 180 MB whose unknown key holds 90 million zeros, under a 512 MiB heap, and stays small', async () => {
    const node = await nodes.start(dir.path, ['--transfer-timeout', '600s'], SMALL_HEAP).ready()
    const filesBefore = await allFiles(dir.path)
    const peer = await TestPeer.start()
    try {
      const agentId = 'hostile-zeros'
      const head = `{"Package":{"AgentID":"${agentId}","Junk":[`
      const tail = `0],"WASMBinary":"AAAA","WASMHash":"AAAA","Checkpoint":"AAAA","ManifestData":"","Budget":1,"PricePerSecond":1},"SourceNodeID":"${peer.peerId}"}\n`
      const { reply, error, sent } = await send(peer, node.address(), repeated('0,', 90_000_000, head, tail))
      expect(error).toBeNull()
      expect(sent).toBeGreaterThan(180_000_000)
      expect(reply?.Success).toBe(false)
      // Decoded to the end (the junk skipped), then refused by the §7 checks with the reason.
      expect(reply?.Error).toMatch(/WASMHash must be 32 bytes/)
      const { rss, peak } = await expectUnharmed(node, dir.path, agentId, filesBefore)
      console.log(`zero-array package: ${mb(sent)} sent; igord RSS after ${mb(rss)}, peak ${mb(peak)}`)
      expect(rss).toBeLessThan(GIB)
      expect(peak).toBeLessThan(GIB)
      expect(await node.waitForLog('refusal logged', (l) => l.msg.startsWith('hand-off refused'))).toBeDefined()
    } finally {
      await peer.stop()
    }
  }, 900_000)

  it('refuses 4.5 million replay entries at the entry limit, before the rest arrives, and stays small', async () => {
    const node = await nodes.start(dir.path, ['--transfer-timeout', '600s'], SMALL_HEAP).ready()
    const filesBefore = await allFiles(dir.path)
    const peer = await TestPeer.start()
    try {
      const agentId = 'hostile-replay'
      const head = `{"Package":{"AgentID":"${agentId}","WASMBinary":"AAAA","WASMHash":"AAAA","Checkpoint":"AAAA","ManifestData":"","Budget":1,"PricePerSecond":1,` +
        '"ReplayData":{"PreTickState":"","TickNumber":1,"Entries":['
      const tail = `{"HostcallID":1,"Payload":"AAAAAAAAAAA="}]}},"SourceNodeID":"${peer.peerId}"}\n`
      const { reply, error, sent } = await send(peer, node.address(), repeated('{"HostcallID":1,"Payload":"AAAAAAAAAAA="},', 4_500_000, head, tail))
      expect(error).toBeNull()
      expect(reply?.Success).toBe(false)
      expect(reply?.Error).toBe('AgentTransfer.Package.ReplayData.Entries: more than 100000 entries')
      const { rss, peak } = await expectUnharmed(node, dir.path, agentId, filesBefore)
      console.log(`4.5M-entry package: refused after ${mb(sent)} of 189 MB were sent; igord RSS after ${mb(rss)}, peak ${mb(peak)}`)
      expect(rss).toBeLessThan(GIB)
      expect(peak).toBeLessThan(GIB)
    } finally {
      await peer.stop()
    }
  }, 900_000)
})
