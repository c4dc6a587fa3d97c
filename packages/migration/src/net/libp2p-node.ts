import '../node20.js' // identify reads the peer store on every connection (Promise.withResolvers on Node 20)
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { MigrationError, describeCause } from '../errors.js'

export interface IgorLibp2pOptions {
  /** The node identity (see `loadOrCreateNodeKey`). */
  privateKey: PrivateKey
  /** TCP multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/4001` (SPEC §6); empty for a dial-only node. */
  listen: readonly string[]
  /** Connections kept at most (default 64; migrations are short-lived streams). */
  maxConnections?: number
  /** Time allowed to dial and upgrade a connection, ms (default 10 000). */
  dialTimeoutMs?: number
  /** SPEC §16: libp2p identify on every connection, so a known peer's new listen addresses are learned (default true). */
  identify?: boolean
  /** SPEC §16 `--mdns`: discover peers on the local network with libp2p mDNS (default false). */
  mdns?: boolean
}

/**
 * Largest yamux receive window per stream. The window only grows while the
 * reader keeps up, so this bounds what one stream can buffer in memory, not
 * what it can carry: multi-MiB transfers just take more round trips. 16 MiB
 * is yamux's default and what the transfer benchmark was measured with.
 */
const MAX_STREAM_WINDOW = 16 * 1024 * 1024

/** Listen addresses each node was created with, for `announceAddresses`. */
export const listenConfig = new WeakMap<Libp2p, readonly Multiaddr[]>()

/**
 * A started js-libp2p 2.x node for Igor (SPEC §6): TCP, noise, yamux,
 * identify (SPEC §16: a peer's listen addresses, so one that restarts on a new
 * port is found again) and, with `mdns`, mDNS discovery; no DHT or ping.
 * Protocol negotiation is multistream-select on each stream, so dialing a
 * known protocol at a known address needs none of them.
 *
 * The connection monitor is off: it pings every connection every 10 s and
 * aborts the connection when a ping is slow, which a multi-MiB transfer on a
 * slow link can cause; the migration protocol bounds every read and write
 * itself, and yamux keep-alive still detects dead peers.
 *
 * Bad `listen` entries → `MigrationError('BAD_LISTEN_ADDRESS')` naming the
 * entry; an address that cannot be bound → `LISTEN_FAILED` (nothing is left
 * listening).
 */
export async function createIgorLibp2p(options: IgorLibp2pOptions): Promise<Libp2p> {
  const listen = options.listen.map(parseListenAddress)
  const services: Record<string, ReturnType<typeof identify>> = {}
  if (options.identify !== false) services.identify = identify()
  const node = await createLibp2p({
    privateKey: options.privateKey,
    start: false,
    addresses: { listen: listen.map(String) },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxStreamWindowSize: MAX_STREAM_WINDOW })],
    connectionManager: {
      maxConnections: options.maxConnections ?? 64,
      dialTimeout: options.dialTimeoutMs ?? 10_000
    },
    connectionMonitor: { enabled: false },
    // Loaded only when asked for (off by default): its modules cost igord's start-up 50–130 ms (issue 21 item 5).
    ...(options.mdns === true ? { peerDiscovery: [(await import('@libp2p/mdns')).mdns({ interval: 10_000 })] } : {}),
    services
  })
  try {
    await node.start()
  } catch (err) {
    try {
      await node.stop()
    } catch {
      // the listen failure is the error worth reporting
    }
    throw new MigrationError('LISTEN_FAILED', `listen ${options.listen.join(', ')}: ${listenFailure(err)}`, { cause: err })
  }
  listenConfig.set(node, listen)
  return node
}

/** A TCP listen multiaddr (`/ip4|ip6/<host>/tcp/<port>`), or `BAD_LISTEN_ADDRESS` naming the entry. */
export function parseListenAddress(text: string): Multiaddr {
  let ma: Multiaddr
  try {
    ma = multiaddr(text)
  } catch (err) {
    throw new MigrationError('BAD_LISTEN_ADDRESS', `listen address ${JSON.stringify(text)}: ${describeCause(err)}`, { cause: err })
  }
  const names = ma.protoNames()
  if (names.length !== 2 || (names[0] !== 'ip4' && names[0] !== 'ip6') || names[1] !== 'tcp') {
    throw new MigrationError('BAD_LISTEN_ADDRESS', `listen address ${JSON.stringify(text)}: expected /ip4/<host>/tcp/<port> or /ip6/<host>/tcp/<port>`)
  }
  return ma
}

/** The errno line buried in libp2p's multi-line listen error (e.g. `listen EADDRINUSE: …`). */
function listenFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  const line = text.split('\n').map((l) => l.trim()).find((l) => /\bE[A-Z]{3,}\b/.test(l))
  return line?.replace(/^Error:\s*/, '') ?? describeCause(err)
}
