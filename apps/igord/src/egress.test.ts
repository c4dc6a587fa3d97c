import { describe, expect, it } from 'vitest'
import { addOwnAddress, nodeEgress } from './egress.js'

describe('the node\'s own endpoints (SPEC §13)', () => {
  it('metrics host:port and libp2p multiaddrs become denied ports on this host', () => {
    const policy = nodeEgress({ httpAllow: ['127.0.0.0/8', '::1'], httpDeny: [] })
    addOwnAddress(policy, '127.0.0.1:9464')
    addOwnAddress(policy, '[::1]:9465')
    addOwnAddress(policy, '/ip4/0.0.0.0/tcp/4001/p2p/12D3KooWx')
    expect(policy.checkAddress('127.0.0.1', '127.0.0.1', 9464).allowed).toBe(false)
    expect(policy.checkAddress('::1', '::1', 9465).allowed).toBe(false)
    expect(policy.checkAddress('127.0.0.1', '127.0.0.1', 4001).allowed).toBe(false)
    expect(policy.checkAddress('127.0.0.1', '127.0.0.1', 8080).allowed).toBe(true)
  })
})
