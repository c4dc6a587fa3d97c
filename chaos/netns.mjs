// Network partitions for the chaos suite with Linux network namespaces (issue 12 item 5).
// Each node runs in its own namespace `igorchaos-<id>-n<k>`, its veth peer `igc<id>-p<k>` holding
// 10.213.<x>.<k+1>/24; the host end `igc<id>-h<k>` sits on bridge `igc<id>-a` in the root namespace.
// The bridge has no address: the suite's traffic never leaves its own namespaces.
// Isolating a node = its host end down; splitting = moving one group's host ends to bridge `igc<id>-b`.
// <id> is this process's pid in base 36, so leftovers of a dead run are recognised and removed, and
// a run still alive is never touched.
import { execFileSync } from 'node:child_process'

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']

function ipPath() {
  for (const p of IP) {
    try { execFileSync(p, ['-V'], { stdio: 'ignore' }); return p } catch {}
  }
  return null
}

const pidAlive = (pid) => {
  try { process.kill(pid, 0); return true } catch (e) { return e.code === 'EPERM' }
}

/** null when namespaces can be used here, otherwise the reason why not. */
export function netnsUnavailable() {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root'
  const ip = ipPath()
  if (ip === null) return 'no `ip` command (iproute2)'
  const probe = `igorchaos-probe${process.pid.toString(36)}`
  try {
    execFileSync(ip, ['netns', 'add', probe], { stdio: 'pipe' })
  } catch (e) {
    return `\`ip netns add\` failed: ${String(e.stderr ?? e.message).trim().split('\n')[0]}`
  }
  try { execFileSync(ip, ['netns', 'del', probe], { stdio: 'ignore' }) } catch {}
  try {
    execFileSync(ip, ['link', 'add', `igc${process.pid.toString(36)}-t`, 'type', 'bridge'], { stdio: 'pipe' })
    execFileSync(ip, ['link', 'del', `igc${process.pid.toString(36)}-t`], { stdio: 'ignore' })
  } catch (e) {
    return `cannot create a bridge: ${String(e.stderr ?? e.message).trim().split('\n')[0]}`
  }
  return null
}

export class Netns {
  constructor(count) {
    this.ip = ipPath()
    this.id = process.pid.toString(36)
    this.subnet = `10.213.${(process.pid % 250) + 1}`
    this.count = count
    this.bridgeA = `igc${this.id}-a`
    this.bridgeB = `igc${this.id}-b`
    this.isolated = new Set() // node indexes whose host end is down
    this.split = null // node indexes on bridge B
    this.up = false
  }

  run(args, { quiet = false } = {}) {
    try {
      return execFileSync(this.ip, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8')
    } catch (e) {
      if (quiet) return ''
      throw new Error(`ip ${args.join(' ')}: ${String(e.stderr ?? e.message).trim()}`)
    }
  }

  ns(k) { return `igorchaos-${this.id}-n${k}` }
  host(k) { return `igc${this.id}-h${k}` }
  peer(k) { return `igc${this.id}-p${k}` }
  address(k) { return `${this.subnet}.${k + 1}` }
  /** The command prefix that runs a program inside node k's namespace. */
  wrap(k) { return [this.ip, 'netns', 'exec', this.ns(k)] }

  /** Removes namespaces and links left by earlier runs whose process is gone. Returns how many. */
  removeLeftovers() {
    let removed = 0
    for (const line of this.run(['netns', 'list'], { quiet: true }).split('\n')) {
      const name = line.trim().split(/\s+/)[0] ?? ''
      const m = /^igorchaos-(?:probe)?([0-9a-z]+)(?:-|$)/.exec(name)
      if (m === null || pidAlive(parseInt(m[1], 36))) continue
      this.run(['netns', 'del', name], { quiet: true })
      removed++
    }
    for (const line of this.run(['-o', 'link', 'show'], { quiet: true }).split('\n')) {
      const m = /^\d+:\s+(igc([0-9a-z]+)-[a-z0-9]+)[@:]/.exec(line)
      if (m === null || pidAlive(parseInt(m[2], 36))) continue
      this.run(['link', 'del', m[1]], { quiet: true })
      removed++
    }
    return removed
  }

  setUp() {
    this.up = true
    this.run(['link', 'add', this.bridgeA, 'type', 'bridge'])
    this.run(['link', 'add', this.bridgeB, 'type', 'bridge'])
    this.run(['link', 'set', this.bridgeA, 'up'])
    this.run(['link', 'set', this.bridgeB, 'up'])
    for (let k = 0; k < this.count; k++) {
      this.run(['netns', 'add', this.ns(k)])
      this.run(['link', 'add', this.host(k), 'type', 'veth', 'peer', 'name', this.peer(k)])
      this.run(['link', 'set', this.peer(k), 'netns', this.ns(k)])
      this.run(['link', 'set', this.host(k), 'master', this.bridgeA])
      this.run(['link', 'set', this.host(k), 'up'])
      this.run(['-n', this.ns(k), 'addr', 'add', `${this.address(k)}/24`, 'dev', this.peer(k)])
      this.run(['-n', this.ns(k), 'link', 'set', this.peer(k), 'up'])
      this.run(['-n', this.ns(k), 'link', 'set', 'lo', 'up'])
    }
  }

  /** Cuts node k off from everyone (its host end down). */
  isolate(k) {
    this.isolated.add(k)
    this.run(['link', 'set', this.host(k), 'down'])
  }

  rejoin(k) {
    this.isolated.delete(k)
    this.run(['link', 'set', this.host(k), 'up'])
  }

  /** Splits the cluster: the nodes in `group` can reach each other only, the rest each other only. */
  splitOff(group) {
    this.split = [...group]
    for (const k of group) this.run(['link', 'set', this.host(k), 'master', this.bridgeB])
  }

  mend() {
    for (const k of this.split ?? []) this.run(['link', 'set', this.host(k), 'master', this.bridgeA])
    this.split = null
  }

  /** Whether nodes i and j cannot reach each other right now. */
  separated(i, j) {
    if (this.isolated.has(i) || this.isolated.has(j)) return true
    return this.split !== null && this.split.includes(i) !== this.split.includes(j)
  }

  /** Heals every partition now in place. */
  healAll() {
    this.mend()
    for (const k of [...this.isolated]) this.rejoin(k)
  }

  /** Removes everything this run created (synchronous: also usable on exit and on SIGINT). */
  tearDown() {
    if (!this.up) return
    this.up = false
    for (let k = 0; k < this.count; k++) {
      this.run(['link', 'del', this.host(k)], { quiet: true })
      this.run(['netns', 'del', this.ns(k)], { quiet: true })
    }
    this.run(['link', 'del', this.bridgeA], { quiet: true })
    this.run(['link', 'del', this.bridgeB], { quiet: true })
  }
}
