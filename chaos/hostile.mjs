// The hostile peer of `pnpm chaos --scenario hostile` (issue 16): every attack a stranger on the network
// found against a node, sent from a fresh libp2p key each time (a fresh key passes any per-peer limit).
// Each attack resolves with what the node answered; the run's checker decides whether that was safe.
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from './cluster.mjs'

const load = async (path) => import(pathToFileURL(join(ROOT, path)).href)
const migration = await load('packages/migration/dist/index.js')
const codec = await load('packages/checkpoint-codec/dist/index.js')
const identity = await load('packages/identity/dist/index.js')
const { Epoch } = await load('packages/epoch/dist/index.js')

const U64_MAX = (1n << 64n) - 1n
const enc = new TextEncoder()
const b64 = (bytes) => Buffer.from(bytes).toString('base64')
const sha256 = (bytes) => createHash('sha256').update(bytes).digest()

/** A stranger: a libp2p node with a key of its own, used for one attack. */
async function stranger() {
  const dir = await mkdtemp(join(tmpdir(), 'igor-hostile-'))
  const node = await migration.createIgorLibp2p({ privateKey: await migration.loadOrCreateNodeKey(dir), listen: [] })
  return { node, peerId: node.peerId.toString(), stop: async () => { await node.stop().catch(() => {}); await rm(dir, { recursive: true, force: true }) } }
}

/** Sends `make(peerId)` (an async iterable of bytes) on a migrate stream; the node's reply, or why there was none. */
async function sendPackage(address, make, replyTimeoutMs = 60_000) {
  const peer = await stranger()
  try {
    const stream = await migration.openStream(peer.node, address, migration.MIGRATE_PROTOCOL)
    const sent = stream.sink(make(peer.peerId)).catch((error) => error)
    try {
      const raw = await migration.readJsonMessage(stream.source, { maxBytes: 65536, timeoutMs: replyTimeoutMs })
      return { reply: migration.decodeAgentStarted(raw) }
    } catch (error) {
      return { reply: null, error: error.message, sendError: (await Promise.race([sent, new Promise((resolve) => setTimeout(resolve, 10))]))?.message }
    } finally {
      try { stream.abort(new Error('done')) } catch { /* closed */ }
    }
  } catch (error) {
    return { reply: null, error: error.message }
  } finally {
    await peer.stop()
  }
}

async function * once(bytes) { yield bytes }

/** `{"Package":{…,"Junk":[0,0,…]}}` of about `mib` MiB, streamed: an unknown key holding a huge array. */
async function * junkArray(agentId, mib) {
  const wasm = enc.encode('\0asm junk')
  yield enc.encode(`{"Package":{"AgentID":${JSON.stringify(agentId)},"WASMBinary":"${b64(wasm)}","WASMHash":"${b64(sha256(wasm))}","Junk":[0`)
  const block = enc.encode(',0'.repeat(512 * 1024)) // 1 MiB
  for (let i = 0; i < mib; i++) yield block
  yield enc.encode(']},"SourceNodeID":"x"}')
}

/** A package whose ReplayData holds `entries` entries (about 45 bytes each), streamed. */
async function * replayFlood(agentId, entries, peerId) {
  const wasm = enc.encode('\0asm not a module')
  const checkpoint = codec.encodeCheckpoint({ budget: 1000n, pricePerSecond: 1000n, tickNumber: 1n, wasmHash: sha256(wasm), epoch: new Epoch(1n << 62n, 0n), leaseExpiry: 0n, state: new Uint8Array(8) })
  yield enc.encode(`{"Package":{"AgentID":${JSON.stringify(agentId)},"WASMBinary":"${b64(wasm)}","WASMHash":"${b64(sha256(wasm))}","Checkpoint":"${b64(checkpoint)}","ManifestData":"","Budget":1000,"PricePerSecond":1000,"ReplayData":{"PreTickState":"AAAAAAAAAAA=","TickNumber":1,"Entries":[`)
  const entry = '{"HostcallID":1,"Payload":"AAAAAAAAAAA="}'
  const perChunk = 20_000
  for (let sent = 0; sent < entries; sent += perChunk) {
    const n = Math.min(perChunk, entries - sent)
    yield enc.encode((sent === 0 ? '' : ',') + Array(n).fill(entry).join(','))
  }
  yield enc.encode(`]},"MajorVersion":${(1n << 62n).toString()}},"SourceNodeID":${JSON.stringify(peerId)}}`)
}

function transfer(agentId, wasm, checkpoint, epoch, sourceNodeId, agentIdentity) {
  return migration.encodeAgentTransfer({
    Package: {
      AgentID: agentId,
      WASMBinary: wasm,
      WASMHash: sha256(wasm),
      Checkpoint: checkpoint,
      ManifestData: new Uint8Array(0),
      Budget: 1000n,
      PricePerSecond: 1000n,
      MajorVersion: epoch.majorVersion,
      LeaseGeneration: epoch.leaseGeneration,
      ...(agentIdentity !== undefined ? { AgentIdentity: agentIdentity } : {})
    },
    SourceNodeID: sourceNodeId
  })
}

const counterWasm = await readFile(join(ROOT, 'agents/build/counter.wasm'))

export const ATTACKS = {
  /** Issue 16 attack 1: an unknown key holding a huge array (8 MiB … 180 MiB). */
  async junkArray(address, agentId, random) {
    const mib = random() < 0.15 ? 180 : 8 + Math.floor(random() * 56)
    return { mib, ...await sendPackage(address, () => junkArray(agentId, mib)) }
  },
  /** Issue 16 attack 1: a package with a million replay entries (about 45 MB). */
  async replayFlood(address, agentId) {
    return sendPackage(address, (peerId) => replayFlood(agentId, 1_000_000, peerId))
  },
  /** Issue 16 attack 2: garbage for an agent the node holds, at a higher epoch, unsigned. */
  async garbageSupersede(address, agentId) {
    const wasm = enc.encode('\0asm garbage')
    const epoch = new Epoch(1n << 62n, 0n)
    const checkpoint = codec.encodeCheckpoint({ budget: 1000n, pricePerSecond: 1000n, tickNumber: 1n, wasmHash: sha256(wasm), epoch, leaseExpiry: 0n, state: new Uint8Array(8) })
    return sendPackage(address, (peerId) => once(transfer(agentId, wasm, checkpoint, epoch, peerId)))
  },
  /** Issue 16 attack 2: a well-formed package for a held agent, signed by a key that is not the agent's. */
  async foreignKey(address, agentId) {
    const thief = identity.AgentIdentity.generate()
    const epoch = new Epoch(1n << 62n, 0n)
    const checkpoint = codec.encodeSignedCheckpoint({ budget: 1000n, pricePerSecond: 1000n, tickNumber: 1n, wasmHash: sha256(counterWasm), epoch, leaseExpiry: 0n, state: new Uint8Array(8) }, codec.GENESIS_PREV_HASH, thief)
    return sendPackage(address, (peerId) => once(transfer(agentId, counterWasm, checkpoint, epoch, peerId, thief.toBytes())))
  },
  /** Issue 16 attacks 3–4: an authority query at (2^64−1, 2^64−1) from a stranger, then a flood of them. */
  async fenceForever(address, agentId, random) {
    const peer = await stranger()
    try {
      const count = random() < 0.3 ? 300 : 1
      const answers = []
      for (let i = 0; i < count; i++) {
        try {
          const stream = await migration.openStream(peer.node, address, migration.AUTHORITY_PROTOCOL)
          await migration.writeMessage(stream, migration.encodeAuthorityQuery({ AgentID: agentId, Epoch: new Epoch(U64_MAX, U64_MAX) }), { timeoutMs: 5000 })
          const raw = await migration.readJsonMessage(stream.source, { maxBytes: 65536, timeoutMs: 10_000 })
          answers.push(migration.decodeAuthorityAnswer(raw))
        } catch (error) {
          answers.push({ Held: 'no-answer', Error: error.message })
        }
      }
      return { count, answers }
    } finally {
      await peer.stop()
    }
  }
}
