// SPEC §16 Peers: what libp2p tells the registry (identify, mDNS) and the hello dial at start.
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from '@igor/runner'
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerRegistry } from './registry.js'

export interface PeerFeedOptions {
  /** Peers dialled at start so identify runs both ways (most recently seen first; default 16). */
  readonly helloPeers?: number
  /** Time allowed for each hello dial (default 5 s). */
  readonly helloTimeoutMs?: number
}

/** Only TCP addresses are worth keeping: this node dials nothing else. */
const dialable = (ma: Multiaddr): boolean => {
  const names = ma.protoNames()
  return names.length >= 2 && ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(names[0] as string) && names[1] === 'tcp'
}

/**
 * Wires the registry to the libp2p node:
 * - `peer:identify`: a KNOWN peer's listen addresses become its newest ones
 *   (a peer that restarted on a new port and connects again is found again);
 *   unknown peers are not added (any connection runs identify).
 * - `peer:discovery` (mDNS, `--mdns`): the peer is added with its addresses.
 * - at start, each of the `helloPeers` most recently seen peers is dialled
 *   once in the background, so the peers that knew this node learn its
 *   current address through their identify.
 * Returns the function that detaches it.
 */
export function feedRegistry(node: Libp2p, registry: PeerRegistry, logger: Logger, options: PeerFeedOptions = {}): () => void {
  const self = node.peerId.toString()
  const onIdentify = (event: CustomEvent<{ peerId: { toString(): string }, listenAddrs: Multiaddr[] }>): void => {
    const peerId = event.detail.peerId.toString()
    if (peerId === self || !registry.has(peerId)) return
    const addrs = event.detail.listenAddrs.filter(dialable).map((ma) => ma.toString())
    const before = registry.addressesOf(peerId)
    registry.recordContact(peerId, addrs)
    if (addrs.some((a) => !before.some((b) => b.startsWith(`${a}/p2p/`)))) logger.info({ peer: peerId, addresses: registry.addressesOf(peerId) }, 'peers: identify gave a known peer new addresses')
  }
  const onDiscovery = (event: CustomEvent<{ id: { toString(): string }, multiaddrs: Multiaddr[] }>): void => {
    const peerId = event.detail.id.toString()
    if (peerId === self) return
    const addrs = event.detail.multiaddrs.filter(dialable).map((ma) => ma.toString())
    if (addrs.length === 0) return
    const known = registry.has(peerId)
    registry.recordContact(peerId, addrs)
    if (!known) logger.info({ peer: peerId, addresses: addrs }, 'peers: discovered on the local network (mDNS)')
  }
  node.addEventListener('peer:identify', onIdentify)
  node.addEventListener('peer:discovery', onDiscovery)
  const stopped = { value: false }
  const hello = registry.list().filter((e) => e.peerId !== self && e.addresses.length > 0).slice(0, options.helloPeers ?? 16)
  for (const entry of hello) {
    void (async () => {
      for (const address of entry.addresses) {
        if (stopped.value) return
        try {
          await node.dial(multiaddr(address), { signal: AbortSignal.timeout(options.helloTimeoutMs ?? 5000) })
          return // identify on this connection (both sides) does the rest
        } catch {
          // the next address; a peer that is down is no news
        }
      }
    })()
  }
  return () => {
    stopped.value = true
    node.removeEventListener('peer:identify', onIdentify as never)
    node.removeEventListener('peer:discovery', onDiscovery as never)
  }
}
