// SPEC §15 `/igor/price/1.0.0`, asking side (the price scan of SPEC §16 uses it): dial, one question,
// one bounded answer read exactly, close. Every failure is a typed MigrationError.
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { MigrationError, describeCause } from '../errors.js'
import { parsePeerAddress } from '../net/addresses.js'
import { openStream } from '../net/dial.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { PRICE_PROTOCOL, type PriceAnswer, decodePriceAnswer, encodePriceQuery } from './wire.js'

/** Largest answer read: ours with every capability is a few hundred bytes. */
export const MAX_PRICE_ANSWER_BYTES = 8192
/** SPEC §16: 5 s per peer in a scan. */
export const DEFAULT_PRICE_TIMEOUT_MS = 5_000

export interface AskPriceOptions {
  /** Time for the whole question: dial, write and answer (default 5 s). */
  readonly timeoutMs?: number
  /** The reference's optional `agent_id`. */
  readonly agentId?: string
  readonly signal?: AbortSignal
}

/**
 * Asks one node its price. `peer` is a multiaddr ending in `/p2p/<peerId>`
 * (dialed, and the answering node must be that peer), or a peer id (or its
 * text) the libp2p node already knows addresses for. The answer's `node_id`
 * must be the peer asked (`BAD_REPLY` otherwise).
 *
 * Throws `MigrationError`: `BAD_PEER_ADDRESS`, `DIAL_FAILED`, `RATE_LIMITED`
 * or `QUERY_REFUSED` (the node refused), `BAD_REPLY`, `TRANSFER_TIMEOUT`,
 * `TRANSFER_EMPTY` / `TRANSFER_TRUNCATED` (closed without a whole answer),
 * `TRANSFER_TOO_LARGE`, `STREAM_FAILED`.
 */
export async function askPrice(node: Libp2p, peer: string | PeerId, options: AskPriceOptions = {}): Promise<PriceAnswer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PRICE_TIMEOUT_MS
  const started = performance.now()
  const left = (): number => Math.max(1, Math.floor(timeoutMs - (performance.now() - started)))
  const { stream, expected } = await open(node, peer, timeoutMs, options.signal)
  try {
    await writeMessage(stream, encodePriceQuery(options.agentId !== undefined ? { agentId: options.agentId } : {}), { timeoutMs: left(), ...(options.signal !== undefined ? { signal: options.signal } : {}) })
    const answer = decodePriceAnswer(await readJsonMessage(stream.source, { maxBytes: MAX_PRICE_ANSWER_BYTES, timeoutMs: left(), ...(options.signal !== undefined ? { signal: options.signal } : {}) }))
    if (answer.nodeId !== expected) throw new MigrationError('BAD_REPLY', `price answer from ${expected} names node ${JSON.stringify(answer.nodeId.slice(0, 80))}`)
    await stream.close().catch(() => undefined)
    return answer
  } catch (error) {
    try { stream.abort(error as Error) } catch { /* already closed */ }
    throw error
  }
}

async function open(node: Libp2p, peer: string | PeerId, timeoutMs: number, signal?: AbortSignal): Promise<{ stream: Stream, expected: string }> {
  const text = peer.toString()
  if (text.startsWith('/')) {
    // openStream refuses a connection whose authenticated peer is not the address's.
    const expected = parsePeerAddress(text).getPeerId() as string
    const stream = await openStream(node, text, PRICE_PROTOCOL, { timeoutMs, ...(signal !== undefined ? { signal } : {}) })
    return { stream, expected }
  }
  let id: PeerId
  try {
    id = typeof peer === 'string' ? peerIdFromString(peer) : peer
  } catch (error) {
    throw new MigrationError('BAD_PEER_ADDRESS', `peer ${JSON.stringify(text.slice(0, 80))} is neither a multiaddr with /p2p/<peerId> nor a peer id: ${describeCause(error)}`)
  }
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    const stream = await node.dialProtocol(id, PRICE_PROTOCOL, { signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]), negotiateFully: true })
    return { stream, expected: id.toString() }
  } catch (error) {
    throw new MigrationError('DIAL_FAILED', `dial ${id.toString()} ${PRICE_PROTOCOL}: ${timeout.aborted ? `no stream within ${timeoutMs} ms` : describeCause(error)}`, { cause: error })
  }
}
