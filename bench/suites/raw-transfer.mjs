// Raw libp2p transfer: the floor under a migration. Time to push N bytes over a
// fresh stream between two in-process nodes (TCP on 127.0.0.1, noise, yamux,
// exactly the stack `createIgorLibp2p` builds) and get a one-byte answer. The
// migration benchmark compares a whole hand-off against this.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { announceAddresses, createIgorLibp2p, loadOrCreateNodeKey, openStream, writeMessage } from '@igor/migration'

export const name = 'raw-transfer'

/** Test protocol: the receiver reads to end of stream, then answers one byte. */
export const RAW_PROTOCOL = '/igor/bench/raw/1.0.0'

/**
 * Two started nodes; `receiver` handles RAW_PROTOCOL. Reuse the pair across
 * `rawTransfer` calls (the first call also pays for the connection) and
 * `await nodes.stop()` at the end.
 */
export async function createRawTransferNodes() {
  const dir = await mkdtemp(join(tmpdir(), 'igor-bench-raw-'))
  const [senderKey, receiverKey] = await Promise.all([
    loadOrCreateNodeKey(join(dir, 'sender')),
    loadOrCreateNodeKey(join(dir, 'receiver'))
  ])
  const listen = ['/ip4/127.0.0.1/tcp/0']
  const [sender, receiver] = await Promise.all([
    createIgorLibp2p({ privateKey: senderKey, listen }),
    createIgorLibp2p({ privateKey: receiverKey, listen })
  ])
  const received = []
  await receiver.handle(RAW_PROTOCOL, ({ stream }) => {
    void (async () => {
      let total = 0
      for await (const chunk of stream.source) total += chunk.byteLength
      received.push(total)
      await stream.sink([Uint8Array.of(1)])
    })().catch((error) => stream.abort(error))
  }, { maxInboundStreams: 64 })
  const address = announceAddresses(receiver)[0]
  return {
    sender,
    receiver,
    address,
    /** Byte counts the receiver saw, one per stream, oldest first. */
    received,
    async stop() {
      await Promise.all([sender.stop(), receiver.stop()])
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Milliseconds from opening a fresh stream to receiving the one-byte answer
 * after `bytes` were sent and the stream half-closed. Opening the stream
 * (protocol negotiation) is included; connecting is not once the pair has
 * been used. Throws if the receiver did not see exactly `bytes.length` bytes.
 */
export async function rawTransfer(bytes, { nodes }) {
  const start = performance.now()
  const stream = await openStream(nodes.sender, nodes.address, RAW_PROTOCOL)
  await writeMessage(stream, bytes)
  let answered = false
  for await (const chunk of stream.source) {
    if (chunk.byteLength > 0) {
      answered = true
      break
    }
  }
  const elapsed = performance.now() - start
  if (!answered) throw new Error('raw-transfer: the receiver closed without answering')
  const seen = nodes.received.shift()
  if (seen !== bytes.length) throw new Error(`raw-transfer: receiver saw ${seen} bytes, sent ${bytes.length}`)
  return elapsed
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const SIZES = [
  ['1 MiB', 1024 * 1024],
  ['16 MiB', 16 * 1024 * 1024]
]

export async function run(ctx) {
  const runs = ctx?.quick ? 3 : 9
  const nodes = await createRawTransferNodes()
  const rows = []
  try {
    await rawTransfer(new Uint8Array(1024), { nodes }) // connect once, outside the figures
    for (const [label, size] of SIZES) {
      const payload = new Uint8Array(size)
      for (let i = 0; i < size; i += 4096) payload[i] = i & 0xff
      await rawTransfer(payload, { nodes }) // warm-up: JIT, yamux window growth
      const times = []
      for (let i = 0; i < runs; i++) times.push(await rawTransfer(payload, { nodes }))
      const ms = median(times)
      ctx?.log?.(`raw transfer ${label}: median ${ms.toFixed(1)} ms over ${runs} runs`)
      rows.push({
        name: `raw-transfer ${label}`,
        value: ms,
        unit: 'ms',
        ratio: null,
        target: null,
        ok: null,
        note: `${(size / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s, median of ${runs}`
      })
    }
  } finally {
    await nodes.stop()
  }
  return rows
}
