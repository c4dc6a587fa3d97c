import type { Libp2p } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { MigrationError, describeCause } from '../errors.js'
import { listenConfig } from './libp2p-node.js'

/**
 * The node's full dialable addresses, `/ip4/…/tcp/…/p2p/<peerId>` (SPEC §6:
 * printed at start). js-libp2p 2.x already expands a wildcard listen
 * (`0.0.0.0`, `::`) into one address per interface, loopback included; the
 * loopback entry is added here should a version ever leave it out, so a
 * node is always reachable from the same machine.
 */
export function announceAddresses(node: Libp2p): string[] {
  const peer = node.peerId.toString()
  const out: string[] = []
  const add = (ma: Multiaddr): void => {
    const withPeer = ma.getPeerId() === null ? ma.encapsulate(`/p2p/${peer}`) : ma
    const text = withPeer.toString()
    if (!out.includes(text)) out.push(text)
  }
  const current = node.getMultiaddrs()
  for (const ma of current) add(ma)

  const listens = listenConfig.get(node) ?? []
  const specificPorts = new Set(listens.filter((l) => !isWildcard(l)).map((l) => hostOf(l)[2]))
  for (const listen of listens) {
    if (!isWildcard(listen)) continue
    const [family, , listenPort] = hostOf(listen)
    const loopback = family === 'ip4' ? '127.0.0.1' : '::1'
    // Ports this wildcard listener is bound on, as libp2p reports them.
    const ports = new Set(current.map(hostOf)
      .filter(([f, , port]) => f === family && port !== undefined && (listenPort === '0' ? !specificPorts.has(port) : port === listenPort))
      .map(([, , port]) => port as string))
    for (const port of ports) add(multiaddr(`/${family}/${loopback}/tcp/${port}`))
  }
  return out.filter((a) => !/\/ip[46]\/(?:0\.0\.0\.0|::)\//.test(a))
}

function isWildcard(ma: Multiaddr): boolean {
  const host = hostOf(ma)[1]
  return host === '0.0.0.0' || host === '::'
}

function hostOf(ma: Multiaddr): [string | undefined, string | undefined, string | undefined] {
  const parts = ma.stringTuples()
  const [family, host] = parts[0] ?? []
  const tcp = parts[1]
  return [
    family === 4 ? 'ip4' : family === 41 ? 'ip6' : undefined,
    host,
    tcp?.[0] === 6 ? tcp[1] : undefined
  ]
}

/**
 * A peer's address for dialing: a multiaddr that names the peer
 * (`…/p2p/<peerId>`), so noise authenticates exactly that node. Otherwise
 * `MigrationError('BAD_PEER_ADDRESS')` naming it.
 */
export function parsePeerAddress(text: string): Multiaddr {
  let ma: Multiaddr
  try {
    ma = multiaddr(text)
  } catch (err) {
    throw new MigrationError('BAD_PEER_ADDRESS', `peer address ${JSON.stringify(text)}: ${describeCause(err)}`, { cause: err })
  }
  if (ma.getPeerId() === null) {
    throw new MigrationError('BAD_PEER_ADDRESS', `peer address ${JSON.stringify(text)}: must end with /p2p/<peerId>`)
  }
  return ma
}
