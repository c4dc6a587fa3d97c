import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import type { MigrationErrorCode } from '../errors.js'
import { decodeAgentStarted, encodeAgentStarted } from '../wire/agent-started.js'
import { decodeAgentTransfer, encodeAgentTransfer } from '../wire/agent-transfer.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { MIGRATE_PROTOCOL } from '../wire/types.js'
import type { AgentTransfer } from '../wire/types.js'
import { announceAddresses } from './addresses.js'
import { openStream } from './dial.js'
import { createIgorLibp2p, listenConfig } from './libp2p-node.js'

/** What the target handler saw for one stream: the transfer, or the refusal code. */
type Outcome = { ok: AgentTransfer } | { refused: MigrationErrorCode }

// Generous enough for a loaded 2-core CI machine, short enough to keep the timeout tests quick.
const HANDLER_LIMITS = { maxBytes: 2 * 1024 * 1024, timeoutMs: 2000 }

let a: Libp2p
let b: Libp2p
let bAddress: string
const outcomes: Outcome[] = []
const waiting: Array<(o: Outcome) => void> = []

function record(outcome: Outcome): void {
  const waiter = waiting.shift()
  if (waiter !== undefined) waiter(outcome)
  else outcomes.push(outcome)
}

function nextOutcome(): Promise<Outcome> {
  const ready = outcomes.shift()
  return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve))
}

/** The target side of SPEC §7, reduced to the wire: bounded read, decode, answer. */
async function targetHandler({ stream }: { stream: Stream }): Promise<void> {
  let transfer: AgentTransfer
  try {
    transfer = decodeAgentTransfer(await readJsonMessage(stream.source, HANDLER_LIMITS))
  } catch (err) {
    const code = err instanceof MigrationError ? err.code : 'STREAM_FAILED'
    record({ refused: code })
    const reply = encodeAgentStarted({ AgentID: '', NodeID: b.peerId.toString(), Success: false, Error: code })
    await writeMessage(stream, reply, { timeoutMs: 1000 }).catch(() => {})
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    return
  }
  record({ ok: transfer })
  await writeMessage(stream, encodeAgentStarted({ AgentID: transfer.Package.AgentID, NodeID: b.peerId.toString(), Success: true, Error: '' }))
}

function sampleTransfer(checkpointBytes: number): AgentTransfer {
  const wasm = new Uint8Array(randomBytes(4096))
  return {
    Package: {
      AgentID: 'survivor',
      WASMBinary: wasm,
      WASMHash: new Uint8Array(randomBytes(32)),
      Checkpoint: new Uint8Array(randomBytes(checkpointBytes)),
      ManifestData: new Uint8Array(Buffer.from('{"version":1}')),
      Budget: (1n << 63n) - 1n,
      PricePerSecond: 1000n,
      MajorVersion: (1n << 64n) - 1n,
      LeaseGeneration: (1n << 53n) + 1n
    },
    SourceNodeID: ''
  }
}

/** Deep equality, with the byte fields compared natively (vitest's toEqual walks a 1 MiB array element by element for seconds). */
function expectSameTransfer(outcome: Outcome, expected: AgentTransfer): void {
  if (!('ok' in outcome)) throw new Error(`handler refused: ${outcome.refused}`)
  const strip = (t: AgentTransfer) => {
    const { WASMBinary, WASMHash, Checkpoint, ManifestData, ...rest } = t.Package
    return { rest, SourceNodeID: t.SourceNodeID, bytes: [WASMBinary, WASMHash, Checkpoint, ManifestData] }
  }
  const got = strip(outcome.ok)
  const want = strip(expected)
  expect({ ...got, bytes: undefined }).toEqual({ ...want, bytes: undefined })
  got.bytes.forEach((field, i) => {
    expect(Buffer.compare(field, want.bytes[i] as Uint8Array)).toBe(0)
  })
}

/** Source side, reduced to the wire: dial, write, half-close, read the reply. */
async function migrate(transfer: AgentTransfer) {
  const stream = await openStream(a, bAddress, MIGRATE_PROTOCOL, { timeoutMs: 5000 })
  await writeMessage(stream, encodeAgentTransfer(transfer), { timeoutMs: 5000 })
  await stream.closeWrite() // already half-closed by the sink; must be harmless
  const reply = decodeAgentStarted(await readJsonMessage(stream.source, { maxBytes: 64 * 1024, timeoutMs: 5000 }))
  await stream.close()
  return reply
}

beforeAll(async () => {
  ;[a, b] = await Promise.all([
    generateKeyPair('Ed25519').then((privateKey) => createIgorLibp2p({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] })),
    generateKeyPair('Ed25519').then((privateKey) => createIgorLibp2p({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] }))
  ])
  await b.handle(MIGRATE_PROTOCOL, (data) => { void targetHandler(data) })
  const addresses = announceAddresses(b)
  expect(addresses).toHaveLength(1)
  bAddress = addresses[0] as string
})

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
})

describe('two nodes, one process', () => {
  it('announces full /ip4/…/tcp/…/p2p/<peerId> addresses', () => {
    expect(bAddress).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${b.peerId.toString()}$`))
    // SPEC §16: identify (a known peer's new addresses) and nothing else: no ping, DHT or identify push.
    expect([...b.getProtocols()].sort()).toEqual([MIGRATE_PROTOCOL, '/ipfs/id/1.0.0'].sort())
  })

  it('carries an AgentTransfer with a 1 MiB checkpoint and its AgentStarted reply exactly', async () => {
    const transfer = { ...sampleTransfer(1024 * 1024), SourceNodeID: a.peerId.toString() }
    const reply = await migrate(transfer)
    expectSameTransfer(await nextOutcome(), transfer)
    expect(reply).toEqual({ AgentID: 'survivor', NodeID: b.peerId.toString(), Success: true, Error: '' })
  })

  it('handler refuses garbage with a reason, and the node keeps serving', async () => {
    const stream = await openStream(a, bAddress, MIGRATE_PROTOCOL)
    await writeMessage(stream, new Uint8Array(Buffer.from('hello, not json')))
    expect(await nextOutcome()).toEqual({ refused: 'BAD_TRANSFER' })
    const reply = decodeAgentStarted(await readJsonMessage(stream.source, { maxBytes: 4096, timeoutMs: 2000 }))
    expect(reply).toMatchObject({ Success: false, Error: 'BAD_TRANSFER' })
  })

  it('handler stops reading past its cap', async () => {
    const stream = await openStream(a, bAddress, MIGRATE_PROTOCOL)
    const huge = new Uint8Array(Buffer.from(`{"Package":{"AgentID":"x","Checkpoint":"${'A'.repeat(3 * 1024 * 1024)}`))
    const writing = writeMessage(stream, huge, { timeoutMs: 5000 }).catch((err: unknown) => err)
    expect(await nextOutcome()).toEqual({ refused: 'TRANSFER_TOO_LARGE' })
    // The source learns it failed: a refusal reply, or the reset.
    const answer = await readJsonMessage(stream.source, { maxBytes: 4096, timeoutMs: 2000 })
      .then((bytes) => decodeAgentStarted(bytes).Success, (err: unknown) => err)
    expect(answer === false || answer instanceof MigrationError).toBe(true)
    await writing
  })

  it('handler gives up on a peer that sends part of a message and holds the stream open', async () => {
    const stream = await openStream(a, bAddress, MIGRATE_PROTOCOL)
    void stream.sink((async function * () {
      yield new Uint8Array(Buffer.from('{"Package":'))
      await new Promise((resolve) => setTimeout(resolve, 60_000))
    })()).catch(() => {})
    expect(await nextOutcome()).toEqual({ refused: 'TRANSFER_TIMEOUT' })
    stream.abort(new Error('test done'))
  })

  it('handler gives up on a peer that opens a stream and sends nothing', async () => {
    const stream = await openStream(a, bAddress, MIGRATE_PROTOCOL)
    expect(await nextOutcome()).toEqual({ refused: 'TRANSFER_TIMEOUT' })
    stream.abort(new Error('test done'))
  })

  it('handler sees an empty stream that is closed at once', async () => {
    const stream = await openStream(a, bAddress, MIGRATE_PROTOCOL)
    await stream.closeWrite()
    expect(await nextOutcome()).toEqual({ refused: 'TRANSFER_EMPTY' })
  })

  it('still serves after all of that', async () => {
    const transfer = sampleTransfer(64 * 1024)
    expect((await migrate(transfer)).Success).toBe(true)
    expectSameTransfer(await nextOutcome(), transfer)
  })
})

describe('dialing failures are typed', () => {
  it('refuses an address without /p2p/<peerId>', async () => {
    const err = await openStream(a, '/ip4/127.0.0.1/tcp/1', MIGRATE_PROTOCOL).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'BAD_PEER_ADDRESS', message: 'peer address "/ip4/127.0.0.1/tcp/1": must end with /p2p/<peerId>' })
    expect(await openStream(a, 'nonsense', MIGRATE_PROTOCOL).catch((e: unknown) => e)).toMatchObject({ code: 'BAD_PEER_ADDRESS' })
  })

  it('reports a protocol the peer does not speak', async () => {
    const err = await openStream(a, bAddress, '/igor/unknown/1.0.0').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'DIAL_FAILED' })
    expect((err as Error).message.startsWith(`dial ${bAddress} /igor/unknown/1.0.0: `)).toBe(true)
  })

  it('reports a peer that is not there, and one that is someone else', async () => {
    const port = await closedPort()
    // A fresh peer id: libp2p 2.x reuses any open connection to a known peer
    // id whatever address is given, so B's id here would just reach B.
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const gone = `/ip4/127.0.0.1/tcp/${port}/p2p/${nobody}`
    expect(await openStream(a, gone, MIGRATE_PROTOCOL).catch((e: unknown) => e)).toMatchObject({ code: 'DIAL_FAILED' })
    // B's address, but claimed to be another peer: noise authenticates B and the dial fails.
    const impostor = bAddress.replace(b.peerId.toString(), nobody)
    const err = await openStream(a, impostor, MIGRATE_PROTOCOL).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'DIAL_FAILED',
      message: `dial ${impostor} ${MIGRATE_PROTOCOL}: the node at this address is ${b.peerId.toString()}, not ${nobody}`
    })
  })
})

describe('createIgorLibp2p', () => {
  it.each([
    ['/ip4/999.1.1.1/tcp/1'],
    ['/ip4/127.0.0.1/udp/1'],
    ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWExample'],
    ['not a multiaddr']
  ])('refuses listen address %s, naming it', async (listen) => {
    const privateKey = await generateKeyPair('Ed25519')
    const err = await createIgorLibp2p({ privateKey, listen: [listen] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MigrationError)
    expect(err).toMatchObject({ code: 'BAD_LISTEN_ADDRESS' })
    expect((err as Error).message).toContain(JSON.stringify(listen))
  })

  it('reports an address already in use and leaves nothing listening', async () => {
    const taken = multiaddr(bAddress).decapsulate('/p2p').toString()
    const privateKey = await generateKeyPair('Ed25519')
    const err = await createIgorLibp2p({ privateKey, listen: [taken] }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'LISTEN_FAILED' })
    expect((err as Error).message).toMatch(new RegExp(`^listen ${taken}: .*EADDRINUSE`))
    expect((err as Error).message).not.toContain('\n')
  })

  it('announces the loopback address when listening on 0.0.0.0', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createIgorLibp2p({ privateKey, listen: ['/ip4/0.0.0.0/tcp/0'] })
    try {
      const addresses = announceAddresses(node)
      const peer = node.peerId.toString()
      expect(addresses.some((s) => new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${peer}$`).test(s))).toBe(true)
      expect(addresses.every((s) => s.endsWith(`/p2p/${peer}`) && !s.includes('0.0.0.0'))).toBe(true)
    } finally {
      await node.stop()
    }
  })

  it('adds loopback itself should libp2p report only interface addresses', () => {
    const peer = b.peerId
    const fake = { peerId: peer, getMultiaddrs: () => [multiaddr(`/ip4/192.0.2.7/tcp/4001/p2p/${peer.toString()}`)] } as unknown as Libp2p
    listenConfig.set(fake, [multiaddr('/ip4/0.0.0.0/tcp/4001')])
    expect(announceAddresses(fake)).toEqual([
      `/ip4/192.0.2.7/tcp/4001/p2p/${peer.toString()}`,
      `/ip4/127.0.0.1/tcp/4001/p2p/${peer.toString()}`
    ])
  })
})

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
