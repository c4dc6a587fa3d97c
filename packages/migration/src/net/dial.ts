import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { MigrationError, describeCause } from '../errors.js'
import { parsePeerAddress } from './addresses.js'

export interface OpenStreamOptions {
  /** Time allowed to connect, upgrade and negotiate the protocol, ms (default 10 000). */
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * Dials `address` (which must end with `/p2p/<peerId>`) and opens a stream
 * for `protocol`, negotiated fully before returning, so "the peer does not
 * speak this protocol" surfaces here rather than mid-write. Given a list,
 * the first the peer speaks is chosen (`stream.protocol`; SPEC §7 2.0.0 falls
 * back to 1.0.0). An existing
 * connection to the peer is reused.
 *
 * The peer is authenticated: js-libp2p 2.10 does not hand the expected peer
 * id to noise on a multiaddr dial, so whoever answers at the address is
 * connected to; the connection's authenticated peer id is compared with the
 * address's here, and a mismatch is refused (the agent must never go to a
 * node other than the one named).
 *
 * Failures → `MigrationError('DIAL_FAILED')` naming the address
 * (`BAD_PEER_ADDRESS` for an unusable address).
 */
export async function openStream(node: Libp2p, address: string, protocol: string | readonly string[], options: OpenStreamOptions = {}): Promise<Stream> {
  const target = parsePeerAddress(address)
  const expected = target.getPeerId() as string
  const timeoutMs = options.timeoutMs ?? 10_000
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
  const fail = (reason: string, cause?: unknown): MigrationError =>
    new MigrationError('DIAL_FAILED', `dial ${address} ${typeof protocol === 'string' ? protocol : protocol.join(' | ')}: ${reason}`, cause === undefined ? undefined : { cause })

  let connection: Connection
  try {
    connection = await node.dial(target, { signal })
  } catch (err) {
    throw fail(timeout.aborted ? `no connection within ${timeoutMs} ms` : describeCause(err), err)
  }
  const actual = connection.remotePeer.toString()
  if (actual !== expected) {
    // Not ours to keep; but a connection other streams use stays.
    if (connection.streams.length === 0) connection.close().catch(() => {})
    throw fail(`the node at this address is ${actual}, not ${expected}`)
  }
  try {
    return await connection.newStream(typeof protocol === 'string' ? protocol : [...protocol], { signal, negotiateFully: true })
  } catch (err) {
    throw fail(timeout.aborted ? `no stream within ${timeoutMs} ms` : describeCause(err), err)
  }
}
