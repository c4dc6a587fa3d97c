/**
 * IP addresses and CIDR blocks as bigints, for the node's egress policy
 * (SPEC §13 "The node's egress policy"). Pure; no DNS.
 */
import { isIP } from 'node:net'

export interface IpAddress {
  readonly family: 4 | 6
  /** 32 bits for IPv4, 128 for IPv6. */
  readonly value: bigint
}

export interface Cidr {
  readonly family: 4 | 6
  readonly base: bigint
  readonly prefix: number
}

const bits = (family: 4 | 6): number => family === 4 ? 32 : 128

/** An IP literal (brackets and an IPv6 zone `%eth0` allowed), or null. */
export function parseIp(text: string): IpAddress | null {
  const bare = text.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')
  const family = isIP(bare)
  if (family === 4) return { family: 4, value: parseV4(bare) }
  if (family === 6) return { family: 6, value: parseV6(bare) }
  return null
}

function parseV4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n)
}

function parseV6(text: string): bigint {
  let head = text
  let tailV4: bigint | null = null
  const lastColon = text.lastIndexOf(':')
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1))
    head = `${text.slice(0, lastColon + 1)}0:0` // two groups stand in for the dotted quad
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, null]
  const groups = (part: string): string[] => part === '' ? [] : part.split(':')
  const l = groups(left)
  const r = right === null ? [] : groups(right)
  const all = right === null ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r]
  let value = all.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n)
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4
  return value
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (`/32`, `/128`). Host bits set → RangeError. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/')
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash))
  if (ip === null) return null
  const max = bits(ip.family)
  let prefix = max
  if (slash >= 0) {
    const p = text.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new RangeError(`bad prefix length in ${JSON.stringify(text)} (0..${max})`)
    prefix = Number(p)
  }
  const base = ip.value & mask(ip.family, prefix)
  if (base !== ip.value) throw new RangeError(`${JSON.stringify(text)} has host bits set (did you mean ${formatIp({ family: ip.family, value: base })}/${prefix}?)`)
  return { family: ip.family, base, prefix }
}

function mask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(bits(family))
  return ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n)
}

export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  return ip.family === cidr.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.base
}

/**
 * A CIDR from a literal known to be valid (the built-in tables), parsed
 * without `node:net`'s `isIP`: its first IPv6 check compiles a large regular
 * expression (~10 ms), which the tables built at import put on every
 * node's start path (issue 21 item 5). The literals are checked against
 * `parseCidr` in the tests; a malformed one still throws here.
 */
export function cidr(text: string): Cidr {
  const match = /^([0-9a-f:.]+)(?:\/(\d{1,3}))?$/i.exec(text)
  if (match === null) throw new Error(`not a CIDR: ${text}`)
  const address = match[1] as string
  const family: 4 | 6 = address.includes(':') ? 6 : 4
  const value = family === 4 ? parseV4(address) : parseV6(address)
  const prefix = match[2] === undefined ? bits(family) : Number(match[2])
  if (prefix > bits(family) || value >> BigInt(bits(family)) !== 0n) throw new Error(`not a CIDR: ${text}`)
  const base = value & mask(family, prefix)
  if (base !== value) throw new Error(`not a CIDR: ${text} (host bits set)`)
  return { family, base, prefix }
}

const MAPPED = cidr('::ffff:0:0/96')
const NAT64 = cidr('64:ff9b::/96')
const SIX_TO_FOUR = cidr('2002::/16')
const COMPATIBLE = cidr('::/96')

/**
 * The IPv4 address an IPv6 address carries and reaches, or null: IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated), NAT64
 * (`64:ff9b::/96`, translated to the IPv4 address by the network's gateway)
 * and 6to4 (`2002:AABB:CCDD::/48`).
 */
export function embeddedV4(ip: IpAddress): IpAddress | null {
  if (ip.family !== 6) return null
  if (inCidr(ip, MAPPED) || inCidr(ip, NAT64)) return { family: 4, value: ip.value & 0xffffffffn }
  if (inCidr(ip, COMPATIBLE) && ip.value > 1n) return { family: 4, value: ip.value & 0xffffffffn }
  if (inCidr(ip, SIX_TO_FOUR)) return { family: 4, value: (ip.value >> 80n) & 0xffffffffn }
  return null
}

/** The address itself and, for IPv6 carrying an IPv4 address, that one too. */
export function addressForms(ip: IpAddress): IpAddress[] {
  const v4 = embeddedV4(ip)
  return v4 === null ? [ip] : [ip, v4]
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.')
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((ip.value >> s) & 0xffffn).toString(16))
  // RFC 5952: the longest run of two or more zero groups becomes `::`.
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8; i++) {
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLength) { best = i; bestLength = j - i }
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`
}
