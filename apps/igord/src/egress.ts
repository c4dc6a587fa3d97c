/**
 * SPEC §13 "The node's egress policy": built from `--http-allow` /
 * `--http-deny`, then told the node's own listening endpoints as they are
 * bound (`--metrics-listen`, the libp2p listen addresses), which no agent may
 * reach whatever --http-allow says. The control socket is a Unix socket:
 * http_request never connects to one.
 */
import { EgressPolicy } from '@igor/sandbox'
import type { StartOptions } from './start-options.js'

export function nodeEgress(options: Pick<StartOptions, 'httpAllow' | 'httpDeny'>): EgressPolicy {
  return EgressPolicy.parse({ allow: options.httpAllow, deny: options.httpDeny })
}

/** `host:port`, `[v6]:port` (the metrics address) or a multiaddr `/ip4/…/tcp/<port>/…`. */
export function addOwnAddress(policy: EgressPolicy, address: string): void {
  const multiaddr = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(address)
  const hostPort = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address)
  const match = multiaddr ?? hostPort
  if (match !== null) policy.addOwnEndpoint(match[1] as string, Number(match[2]))
}
