// SPEC §7: `/igor/migrate/2.0.0` and 1.0.0 against each other over real libp2p — a 2.0.0 source to a
// 1.0.0-only target falls back, a 1.0.0-only source reaches a target serving both, and the reference's
// golden packages are still admitted over 1.0.0 (and carry the same arrival over 2.0.0).
import { randomBytes, createHash } from 'node:crypto'
import { Epoch } from '@igor/epoch'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import type { AgentStatus, HandoffSnapshot, IncomingAgent } from '@igor/runner'
import { silentLogger } from '@igor/runner'
import { afterEach, describe, expect, it } from 'vitest'
import { createIgorLibp2p } from '../net/libp2p-node.js'
import { announceAddresses } from '../net/addresses.js'
import { openStream } from '../net/dial.js'
import { decodeAgentStarted } from '../wire/agent-started.js'
import { decodeAgentTransfer } from '../wire/agent-transfer.js'
import { encodeBinaryTransfer } from '../wire/binary-encode.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { MIGRATE_PROTOCOL, MIGRATE_PROTOCOL_V2 } from '../wire/types.js'
import type { HandoffRuntime } from './runtime.js'
import { migrateAgent } from './source.js'
import { createMigrateHandler } from './target.js'

const V1 = [MIGRATE_PROTOCOL]
const BOTH = [MIGRATE_PROTOCOL_V2, MIGRATE_PROTOCOL]
const nodes: Libp2p[] = []
afterEach(async () => { await Promise.all(nodes.splice(0).map(async (n) => n.stop())) })

async function newNode(): Promise<Libp2p> {
  const node = await createIgorLibp2p({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  nodes.push(node)
  return node
}

/** A target that records what reached `admitAgent` (the checks themselves are the runner's). */
async function target(protocols: readonly string[]): Promise<{ address: string, arrivals: IncomingAgent[], served: string[] }> {
  const node = await newNode()
  const arrivals: IncomingAgent[] = []
  const served: string[] = []
  const runtime = {
    pricePerSecond: 1n,
    admitAgent: (incoming: IncomingAgent) => { arrivals.push(incoming); return Promise.resolve({ epoch: incoming.sourceEpoch.transferred() } as unknown as AgentStatus) },
    startAdmitted: () => {}
  } as unknown as HandoffRuntime
  for (const protocol of protocols) {
    await node.handle(protocol, async (data) => {
      served.push(protocol)
      await createMigrateHandler({ runtime, logger: silentLogger, nodeId: node.peerId.toString(), maxTransferBytes: 64 << 20, transferTimeoutMs: 20_000, binary: protocol === MIGRATE_PROTOCOL_V2 })(data)
    })
  }
  return { address: announceAddresses(node)[0] as string, arrivals, served }
}

function snapshot(agentId: string): HandoffSnapshot {
  const wasm = new Uint8Array(randomBytes(3000))
  return {
    agentId,
    module: { wasm, prepared: { wasmHash: new Uint8Array(createHash('sha256').update(wasm).digest()) }, manifest: { raw: new Uint8Array(Buffer.from('{}')) } },
    checkpoint: new Uint8Array(randomBytes(200_000)),
    persisted: Promise.resolve(),
    epoch: new Epoch((1n << 64n) - 2n, (1n << 53n) + 1n),
    budget: (1n << 63n) - 1n,
    pricePerSecond: 0n,
    tickNumber: 7n,
    replayData: { preTickState: new Uint8Array(randomBytes(100)), tickNumber: 7n, entries: [{ hostcallId: 1, payload: Uint8Array.of(9, 9) }] },
    identity: new Uint8Array(randomBytes(68))
  } as unknown as HandoffSnapshot
}

async function source(protocols: readonly string[], snap: HandoffSnapshot): Promise<{ migrate: (to: string) => Promise<unknown>, events: string[] }> {
  const node = await newNode()
  const events: string[] = []
  const runtime = {
    pricePerSecond: 1n,
    beginHandoff: () => Promise.resolve(snap),
    markHandoffPending: () => { events.push('pending'); return Promise.resolve() },
    completeHandoff: () => { events.push('retired'); return Promise.resolve() },
    revertHandoff: () => { events.push('reverted'); return Promise.resolve(snap.epoch) },
    failHandoff: () => { events.push('recovery'); return Promise.resolve() }
  } as unknown as HandoffRuntime
  return { migrate: async (to) => migrateAgent({ node, runtime, logger: silentLogger, transferTimeoutMs: 20_000, protocols }, snap.agentId, to), events }
}

function expectSameArrival(got: IncomingAgent, snap: HandoffSnapshot): void {
  expect(Buffer.compare(got.wasm, snap.module.wasm)).toBe(0)
  expect(Buffer.compare(got.checkpoint, snap.checkpoint)).toBe(0)
  expect(got.sourceEpoch.equals(snap.epoch)).toBe(true)
  expect(got.replayData?.preTickState).toEqual(snap.replayData?.preTickState)
  expect(got.replayData?.tickNumber).toBe(7n)
  expect(got.identity).toEqual(snap.identity)
}

describe('hand-off versions against each other', () => {
  it('a source offering both reaches a target serving both over 2.0.0', async () => {
    const t = await target(BOTH)
    const snap = snapshot('both')
    const s = await source(BOTH, snap)
    await s.migrate(t.address)
    expect(t.served).toEqual([MIGRATE_PROTOCOL_V2])
    expectSameArrival(t.arrivals[0] as IncomingAgent, snap)
    expect(s.events).toEqual(['pending', 'retired'])
    // The checkpoint was hashed as it arrived: the runner takes the chain head from it.
    expect(t.arrivals[0]?.checkpointContentHash).toEqual(new Uint8Array(createHash('sha256').update(snap.checkpoint).digest()))
  }, 60_000)

  it('a 2.0.0 source falls back to 1.0.0 at a reference-only target', async () => {
    const t = await target(V1)
    const snap = snapshot('fallback')
    const s = await source(BOTH, snap)
    await s.migrate(t.address)
    expect(t.served).toEqual([MIGRATE_PROTOCOL])
    expectSameArrival(t.arrivals[0] as IncomingAgent, snap)
    expect(t.arrivals[0]?.checkpointContentHash).toBeUndefined()
  }, 60_000)

  it('a 1.0.0-only source reaches a target serving both', async () => {
    const t = await target(BOTH)
    const snap = snapshot('old-source')
    const s = await source(V1, snap)
    await s.migrate(t.address)
    expect(t.served).toEqual([MIGRATE_PROTOCOL])
    expectSameArrival(t.arrivals[0] as IncomingAgent, snap)
  }, 60_000)

  it('a 2.0.0-only source cannot reach a 1.0.0-only target, and nothing changed', async () => {
    const t = await target(V1)
    const snap = snapshot('no-common')
    const s = await source([MIGRATE_PROTOCOL_V2], snap)
    await expect(s.migrate(t.address)).rejects.toMatchObject({ code: 'DIAL_FAILED' })
    expect(s.events).toEqual([])
  }, 60_000)
})

// The reference's internal/migration/testdata/agent_package_with_replay.json (see replay-identity.test.ts), in a transfer.
const GOLDEN = '{"Package":{"AgentID":"golden-replay-agent","WASMBinary":"AGFzbQ==","WASMHash":"zV1JNaSMBnLLBkB7tEO8AIev+UfGuGS6yIaYLHOzAn8=","Checkpoint":"AgECAw==",' +
  '"ManifestData":"eyJjYXBhYmlsaXRpZXMiOnsiY2xvY2siOnsidmVyc2lvbiI6MX19fQ==","Budget":5000000,"PricePerSecond":2000,' +
  '"ReplayData":{"PreTickState":"qrvM3Q==","TickNumber":42,"Entries":[{"HostcallID":1,"Payload":"AQIDBAUGBwg="},{"HostcallID":2,"Payload":"3q2+7w=="},{"HostcallID":3,"Payload":"dGljaw=="}]}},' +
  '"SourceNodeID":"SOURCE"}\n'

describe('the reference golden package', () => {
  it('reaches admitAgent over 1.0.0 at a node serving both, and the same over 2.0.0', async () => {
    const t = await target(BOTH)
    const peer = await newNode()
    const golden = new TextEncoder().encode(GOLDEN.replace('SOURCE', peer.peerId.toString()))
    const send = async (protocol: string, message: Uint8Array | Uint8Array[]): Promise<boolean> => {
      const stream = await openStream(peer, t.address, protocol)
      await writeMessage(stream, message)
      return decodeAgentStarted(await readJsonMessage(stream.source, { maxBytes: 65536, timeoutMs: 20_000 })).Success
    }
    expect(await send(MIGRATE_PROTOCOL, golden)).toBe(true)
    expect(await send(MIGRATE_PROTOCOL_V2, encodeBinaryTransfer(decodeAgentTransfer(golden)))).toBe(true)
    const [v1, v2] = t.arrivals as [IncomingAgent, IncomingAgent]
    expect(v1.agentId).toBe('golden-replay-agent')
    expect(v1.replayData?.entries.length).toBe(3)
    const { checkpointContentHash, ...rest } = v2
    expect(rest).toEqual(v1)
    expect(checkpointContentHash).toEqual(new Uint8Array(createHash('sha256').update(v1.checkpoint).digest()))
  }, 60_000)
})
