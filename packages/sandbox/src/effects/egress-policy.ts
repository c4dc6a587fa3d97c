/**
 * The node's egress policy (SPEC §13 "The node's egress policy", ours): the
 * agent's `allowed_hosts` is its wish, this decides. Checked against every
 * address a name resolves to, at connect time and on every redirect hop
 * (see `guardedLookup` in http.ts), so a DNS answer that changes between a
 * check and the connection (rebinding) cannot slip through.
 *
 * Order, first match wins:
 * 1. the node's own listening ports on any address of this host → denied,
 *    always (--http-allow cannot lift it: metrics, libp2p and any other
 *    surface of the node itself are the operator's, never an agent's);
 * 2. `--http-deny` (host pattern, or CIDR holding the address) → denied;
 * 3. `--http-allow` (host pattern, or CIDR holding the address) → allowed;
 * 4. the default-denied ranges below, and every address of this host's own
 *    interfaces → denied;
 * 5. anything else → allowed.
 * An IPv6 address that carries an IPv4 one (mapped, compatible, NAT64, 6to4)
 * is checked as both.
 */
import { networkInterfaces } from 'node:os'
import { addressForms, cidr, formatCidr, formatIp, inCidr, parseCidr, parseIp } from './ip-address.js'
import type { Cidr, IpAddress } from './ip-address.js'

/** Bad `--http-allow` / `--http-deny` text: one line naming the entry. */
export class EgressRuleError extends Error {
  override readonly name = 'EgressRuleError'
  readonly code = 'BAD_EGRESS_RULE'
}

/** Denied unless `--http-allow` names them (SPEC §13). */
export const DEFAULT_DENIED: ReadonlyArray<{ readonly range: Cidr, readonly what: string }> = Object.freeze([
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'shared address space (carrier-grade NAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved (and broadcast)'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['fc00::/7', 'unique local (private)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast']
].map(([range, what]) => Object.freeze({ range: cidr(range as string), what: what as string })))

const LOOPBACK_OR_UNSPECIFIED = ['127.0.0.0/8', '0.0.0.0/32', '::1/128', '::/128'].map(cidr)

export type EgressVerdict = { readonly allowed: true } | { readonly allowed: false, readonly reason: string }

interface Rules {
  readonly patterns: readonly string[]
  readonly ranges: readonly Cidr[]
}

const HOST_PATTERN = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/

/** Splits repeatable, comma-separated flag values into entries. */
export function splitRules(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(',')).map((entry) => entry.trim()).filter((entry) => entry.length > 0)
}

function parseRules(entries: readonly string[], flag: string): Rules {
  const patterns: string[] = []
  const ranges: Cidr[] = []
  for (const entry of splitRules(entries)) {
    let range: Cidr | null
    try {
      range = parseCidr(entry)
    } catch (error) {
      throw new EgressRuleError(`${flag}: ${(error as Error).message}`)
    }
    if (range !== null) {
      ranges.push(range)
      continue
    }
    const pattern = entry.toLowerCase().replace(/\.$/, '')
    if (entry.includes('/') || !HOST_PATTERN.test(pattern)) {
      throw new EgressRuleError(`${flag}: ${JSON.stringify(entry)} is not a CIDR (10.0.0.0/8, fd00::/8), an IP address, or a host pattern (api.example.com, *.example.com)`)
    }
    patterns.push(pattern)
  }
  return { patterns, ranges }
}

/** `*.example.com` matches any name below example.com (not example.com itself); other patterns match exactly. */
function matchesPattern(name: string, pattern: string): boolean {
  return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern
}

/** A host name as patterns see it: lower-cased, brackets and a trailing dot stripped. */
export function normalizeHostName(host: string): string {
  return host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '')
}

const INTERFACES_TTL_MS = 5_000

export class EgressPolicy {
  private readonly ownPorts = new Set<number>()
  private readonly boundAddresses: IpAddress[] = []
  private interfaces: { at: number, addresses: IpAddress[] } | null = null

  private constructor(private readonly allow: Rules, private readonly deny: Rules) {}

  /** From `--http-allow` / `--http-deny` values (repeatable, comma lists). Throws EgressRuleError. */
  static parse(rules: { allow?: readonly string[], deny?: readonly string[] } = {}): EgressPolicy {
    return new EgressPolicy(parseRules(rules.allow ?? [], '--http-allow'), parseRules(rules.deny ?? [], '--http-deny'))
  }

  /**
   * One of the node's own listening endpoints (libp2p, --metrics-listen):
   * that port on any address of this host is refused, whatever --http-allow says.
   */
  addOwnEndpoint(host: string, port: number): void {
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return
    this.ownPorts.add(port)
    const ip = parseIp(host)
    if (ip !== null && !this.boundAddresses.some((a) => a.family === ip.family && a.value === ip.value)) this.boundAddresses.push(ip)
  }

  /** Before resolving a name: denied by a --http-deny pattern, or null (decided per address). */
  checkName(host: string): EgressVerdict | null {
    const name = normalizeHostName(host)
    if (parseIp(name) !== null) return null
    const pattern = this.deny.patterns.find((p) => matchesPattern(name, p))
    return pattern === undefined ? null : { allowed: false, reason: `host ${name} matches --http-deny ${pattern}` }
  }

  /**
   * One address the request would connect to. `host` is the URL's host (a name
   * or the address itself), `port` the port the connection goes to.
   */
  checkAddress(host: string, address: string, port: number): EgressVerdict {
    const ip = parseIp(address)
    if (ip === null) return { allowed: false, reason: `${JSON.stringify(address)} is not an IP address` }
    const forms = addressForms(ip)
    const shown = formatIp(ip)
    const name = normalizeHostName(host)
    const isName = parseIp(name) === null
    if (this.ownPorts.has(port) && forms.some((form) => this.isThisHost(form))) {
      return { allowed: false, reason: `${shown} port ${port} is this node's own listening address` }
    }
    const namedDeny = this.checkName(name)
    if (namedDeny !== null) return namedDeny
    const denied = this.deny.ranges.find((range) => forms.some((form) => inCidr(form, range)))
    if (denied !== undefined) return { allowed: false, reason: `${shown} is in --http-deny ${formatCidr(denied)}` }
    if (isName && this.allow.patterns.some((p) => matchesPattern(name, p))) return { allowed: true }
    if (this.allow.ranges.some((range) => forms.some((form) => inCidr(form, range)))) return { allowed: true }
    const category = DEFAULT_DENIED.find(({ range }) => forms.some((form) => inCidr(form, range)))
    const via = isName ? ` (${name} resolved to it)` : ''
    if (category !== undefined) {
      return { allowed: false, reason: `${shown}${via} is ${category.what}, denied by default (--http-allow ${formatCidr(category.range)} allows it)` }
    }
    if (forms.some((form) => this.isInterfaceAddress(form))) {
      return { allowed: false, reason: `${shown}${via} is an address of this host, denied by default (--http-allow ${shown} allows it)` }
    }
    return { allowed: true }
  }

  private isThisHost(ip: IpAddress): boolean {
    return LOOPBACK_OR_UNSPECIFIED.some((range) => inCidr(ip, range)) ||
      this.boundAddresses.some((a) => a.family === ip.family && a.value === ip.value) ||
      this.isInterfaceAddress(ip)
  }

  private isInterfaceAddress(ip: IpAddress): boolean {
    const now = performance.now()
    if (this.interfaces === null || now - this.interfaces.at > INTERFACES_TTL_MS) {
      const addresses: IpAddress[] = []
      for (const list of Object.values(networkInterfaces())) {
        for (const entry of list ?? []) {
          const parsed = parseIp(entry.address)
          if (parsed !== null) addresses.push(parsed)
        }
      }
      this.interfaces = { at: now, addresses }
    }
    return this.interfaces.addresses.some((a) => a.family === ip.family && a.value === ip.value)
  }
}
