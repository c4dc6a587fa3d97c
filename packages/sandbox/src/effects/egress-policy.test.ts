// The node's egress policy (SPEC §13 "The node's egress policy"): addresses,
// CIDR edges, IPv4-mapped and other IPv4-carrying IPv6, host patterns.
import { networkInterfaces } from 'node:os'
import { describe, expect, it } from 'vitest'
import { EgressPolicy, EgressRuleError } from './egress-policy.js'
import { embeddedV4, formatIp, inCidr, parseCidr, parseIp } from './ip-address.js'
import { HttpRateLimiter } from './http-rate.js'

const policy = EgressPolicy.parse()
const allowed = (p: EgressPolicy, address: string, host = address, port = 80): boolean => p.checkAddress(host, address, port).allowed

describe('IP addresses', () => {
  it('parses IPv4, IPv6 (compressed, with a dotted tail, bracketed, zoned) and formats them back', () => {
    expect(parseIp('10.1.2.3')).toEqual({ family: 4, value: 0x0a010203n })
    expect(parseIp('::1')).toEqual({ family: 6, value: 1n })
    expect(parseIp('[::ffff:127.0.0.1]')).toEqual({ family: 6, value: 0xffff7f000001n })
    expect(parseIp('fe80::1%eth0')).toEqual({ family: 6, value: (0xfe80n << 112n) | 1n })
    expect(parseIp('2001:db8::')).toEqual({ family: 6, value: 0x20010db8n << 96n })
    expect(parseIp('example.com')).toBeNull()
    expect(parseIp('127.1')).toBeNull() // URL normalises such forms before they get here
    expect(formatIp(parseIp('::ffff:7f00:1')!)).toBe('::ffff:7f00:1')
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1')
    expect(formatIp(parseIp('1:2:3:4:5:6:7:8')!)).toBe('1:2:3:4:5:6:7:8')
    expect(formatIp(parseIp('::')!)).toBe('::')
  })

  it('CIDR edges: first and last address in, one past out; host bits and bad prefixes refused', () => {
    const ten = parseCidr('10.0.0.0/8')!
    expect(inCidr(parseIp('10.0.0.0')!, ten)).toBe(true)
    expect(inCidr(parseIp('10.255.255.255')!, ten)).toBe(true)
    expect(inCidr(parseIp('11.0.0.0')!, ten)).toBe(false)
    expect(inCidr(parseIp('9.255.255.255')!, ten)).toBe(false)
    const ula = parseCidr('fc00::/7')!
    expect(inCidr(parseIp('fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')!, ula)).toBe(true)
    expect(inCidr(parseIp('fe00::')!, ula)).toBe(false)
    expect(inCidr(parseIp('10.0.0.1')!, parseCidr('::/0')!)).toBe(false) // families never mix
    expect(parseCidr('0.0.0.0/0')).toEqual({ family: 4, base: 0n, prefix: 0 })
    expect(parseCidr('1.2.3.4')).toEqual({ family: 4, base: 0x01020304n, prefix: 32 })
    expect(() => parseCidr('10.0.0.1/8')).toThrow(/host bits set \(did you mean 10\.0\.0\.0\/8\?\)/)
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/bad prefix length/)
    expect(() => parseCidr('::/129')).toThrow(/bad prefix length/)
  })

  it('IPv6 addresses that carry an IPv4 one', () => {
    expect(formatIp(embeddedV4(parseIp('::ffff:169.254.169.254')!)!)).toBe('169.254.169.254')
    expect(formatIp(embeddedV4(parseIp('64:ff9b::10.0.0.1')!)!)).toBe('10.0.0.1')
    expect(formatIp(embeddedV4(parseIp('2002:7f00:1::')!)!)).toBe('127.0.0.1')
    expect(formatIp(embeddedV4(parseIp('::127.0.0.1')!)!)).toBe('127.0.0.1')
    expect(embeddedV4(parseIp('::1')!)).toBeNull()
    expect(embeddedV4(parseIp('2001:db8::1')!)).toBeNull()
  })
})

describe('EgressPolicy defaults', () => {
  it.each([
    '127.0.0.1', '127.255.255.254', '0.0.0.0', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1',
    '169.254.169.254', '100.64.0.1', '224.0.0.1', '255.255.255.255', '::1', '::', 'fc00::1', 'fd00:ec2::254',
    'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '2002:a00:1::'
  ])('%s is denied', (address) => {
    expect(allowed(policy, address)).toBe(false)
  })

  it.each(['1.1.1.1', '8.8.8.8', '172.32.0.1', '172.15.255.255', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is allowed', (address) => {
    expect(allowed(policy, address)).toBe(true)
  })

  it('a reason names the range and the flag that lifts it; a name says what it resolved to', () => {
    expect(policy.checkAddress('169.254.169.254', '169.254.169.254', 80)).toEqual({
      allowed: false, reason: '169.254.169.254 is link-local (cloud metadata), denied by default (--http-allow 169.254.0.0/16 allows it)'
    })
    expect(policy.checkAddress('localhost', '127.0.0.1', 80)).toMatchObject({ allowed: false, reason: expect.stringContaining('(localhost resolved to it) is loopback') })
  })

  it('the addresses of this host\'s own interfaces are denied', () => {
    const own = Object.values(networkInterfaces()).flatMap((list) => list ?? []).map((entry) => entry.address)
    for (const address of own) expect(allowed(policy, address)).toBe(false)
  })
})

describe('EgressPolicy rules', () => {
  it('--http-allow lifts a default denial: CIDR, single address, mapped form follows the IPv4 rule', () => {
    const p = EgressPolicy.parse({ allow: ['127.0.0.1/32', '10.0.0.0/8,fd00::/8'] })
    expect(allowed(p, '127.0.0.1')).toBe(true)
    expect(allowed(p, '::ffff:127.0.0.1')).toBe(true)
    expect(allowed(p, '127.0.0.2')).toBe(false)
    expect(allowed(p, '10.9.8.7')).toBe(true)
    expect(allowed(p, 'fd12::1')).toBe(true)
    expect(allowed(p, 'fc00::1')).toBe(false)
    expect(allowed(EgressPolicy.parse({ allow: ['::1'] }), '::1')).toBe(true)
  })

  it('--http-deny wins over --http-allow and denies public addresses and names', () => {
    const p = EgressPolicy.parse({ allow: ['10.0.0.0/8', '*.example.com'], deny: ['10.1.0.0/16', '8.8.8.8', 'bad.example.com'] })
    expect(allowed(p, '10.2.0.1')).toBe(true)
    expect(allowed(p, '10.1.0.1')).toBe(false)
    expect(allowed(p, '::ffff:10.1.0.1')).toBe(false)
    expect(allowed(p, '8.8.8.8')).toBe(false)
    expect(p.checkName('BAD.example.com.')).toMatchObject({ allowed: false, reason: 'host bad.example.com matches --http-deny bad.example.com' })
    expect(p.checkName('good.example.com')).toBeNull()
    expect(allowed(p, '1.1.1.1', 'bad.example.com')).toBe(false)
  })

  it('host patterns: exact names and *.suffix (not the suffix itself); they apply to names, not to IP literals', () => {
    const p = EgressPolicy.parse({ allow: ['localhost', '*.internal.test'] })
    expect(allowed(p, '127.0.0.1', 'localhost')).toBe(true)
    expect(allowed(p, '::1', 'LOCALHOST')).toBe(true)
    expect(allowed(p, '10.0.0.5', 'db.internal.test')).toBe(true)
    expect(allowed(p, '10.0.0.5', 'a.b.internal.test')).toBe(true)
    expect(allowed(p, '10.0.0.5', 'internal.test')).toBe(false)
    expect(allowed(p, '10.0.0.5', 'evilinternal.test')).toBe(false)
    expect(allowed(p, '127.0.0.1', 'localhost.evil.test')).toBe(false)
    expect(allowed(p, '127.0.0.1')).toBe(false)
  })

  it('the node\'s own listening ports on this host are denied even when allowed', () => {
    const p = EgressPolicy.parse({ allow: ['127.0.0.0/8', '::1', 'localhost'] })
    p.addOwnEndpoint('127.0.0.1', 9464)
    p.addOwnEndpoint('0.0.0.0', 4001)
    expect(allowed(p, '127.0.0.1', '127.0.0.1', 9464)).toBe(false)
    expect(allowed(p, '127.0.0.2', 'localhost', 9464)).toBe(false)
    expect(allowed(p, '::ffff:127.0.0.1', '::ffff:127.0.0.1', 4001)).toBe(false)
    expect(allowed(p, '::1', '::1', 4001)).toBe(false)
    expect(allowed(p, '127.0.0.1', '127.0.0.1', 9465)).toBe(true)
    expect(allowed(p, '8.8.8.8', '8.8.8.8', 4001)).toBe(true) // another host's port 4001
    expect(p.checkAddress('127.0.0.1', '127.0.0.1', 9464)).toEqual({ allowed: false, reason: '127.0.0.1 port 9464 is this node\'s own listening address' })
  })

  it('bad entries are refused with the entry named', () => {
    expect(() => EgressPolicy.parse({ allow: ['10.0.0.1/8'] })).toThrow(EgressRuleError)
    expect(() => EgressPolicy.parse({ allow: ['10.0.0.1/8'] })).toThrow(/^--http-allow: "10.0.0.1\/8" has host bits set/)
    expect(() => EgressPolicy.parse({ deny: ['http://x.test'] })).toThrow(/^--http-deny: "http:\/\/x.test" is not a CIDR/)
    expect(() => EgressPolicy.parse({ deny: ['a..b'] })).toThrow(EgressRuleError)
    expect(() => EgressPolicy.parse({ deny: ['*'] })).toThrow(EgressRuleError)
    expect(() => EgressPolicy.parse({ deny: ['x.test:80'] })).toThrow(EgressRuleError)
    expect(() => EgressPolicy.parse({ allow: [' , ', ''] })).not.toThrow()
  })
})

describe('HttpRateLimiter', () => {
  it('n per second in any one-second window', () => {
    let now = 0
    const limiter = new HttpRateLimiter(3, () => now)
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false])
    now = 999
    expect(limiter.take()).toBe(false)
    now = 1000 // the three at 0 left the window
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false])
    expect(() => new HttpRateLimiter(0)).toThrow(RangeError)
  })
})
