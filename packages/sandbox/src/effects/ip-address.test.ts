// SPEC §13 / issue 21 item 5: the built-in tables' literals parse the same without node:net's isIP.
import { describe, expect, it } from 'vitest'
import { DEFAULT_DENIED } from './egress-policy.js'
import { cidr, formatCidr, parseCidr } from './ip-address.js'

/** Every literal of the built-in tables (egress-policy.ts, ip-address.ts), and a few more of each shape. */
const LITERALS = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4', '::/128', '::1/128', '64:ff9b:1::/48', '100::/64',
  'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8', '0.0.0.0/32', '::ffff:0:0/96', '64:ff9b::/96', '2002::/16', '::/96',
  '255.255.255.255', '1.2.3.4/32', '2001:db8::1', '::ffff:1.2.3.4/128', 'FE80::/10', '1:2:3:4:5:6:7:8/128', '0.0.0.0/0', '::/0'
]

describe('cidr (built-in table literals)', () => {
  it('parses every literal exactly as parseCidr does', () => {
    for (const text of LITERALS) expect([text, cidr(text)]).toEqual([text, parseCidr(text)])
  })

  it('the default deny list round-trips through parseCidr', () => {
    for (const { range } of DEFAULT_DENIED) expect(parseCidr(formatCidr(range))).toEqual(range)
  })

  it('still throws on a malformed literal or host bits', () => {
    for (const bad of ['', 'x', '10.0.0.0/33', '::/129', '10.0.0.1/8', '1.2.3.4.5', '1:2:3:4:5:6:7:8:9', 'fe80::/10/1', '10.0.0.0/'] ) {
      expect(() => cidr(bad), bad).toThrow()
    }
  })
})
