// The chaos checker (issue 12 item 5): fed every status round and every log line of every node.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeCheckpoint } from '../packages/checkpoint-codec/dist/index.js'

const cmp = (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)
const epochOf = (row) => [BigInt(row.majorVersion), BigInt(row.leaseGeneration)]
const show = (e) => `(${e[0]},${e[1]})`
const owning = (row) => row.state === 'ACTIVE_OWNER' && row.halted === null

export class Checker {
  constructor(agentIds) {
    this.agentIds = agentIds
    this.violations = []
    this.counts = { statusReads: 0, rounds: 0, checkpointsDecoded: 0, networkRecoveries: 0, networkRetires: 0, leaseExpiries: 0, handoffsUnknown: 0, supersededCopies: 0 }
    /** Highest epoch ever seen as ACTIVE_OWNER, per agent. */
    this.maxOwner = new Map()
    /** Owners (node → row) of the previous round, per agent. */
    this.previous = new Map()
  }

  violation(kind, detail) {
    this.violations.push({ kind, detail, at: new Date().toISOString() })
    process.stderr.write(`VIOLATION ${kind}: ${detail}\n`)
  }

  /** One round of status reads: `answers` maps node name → status JSON or null (down/stopped). */
  round(answers) {
    this.counts.rounds++
    const owners = new Map()
    for (const [node, status] of answers) {
      if (status === null) continue
      this.counts.statusReads++
      for (const row of status.agents) {
        if (row.state !== 'ACTIVE_OWNER') continue
        const epoch = epochOf(row)
        const max = this.maxOwner.get(row.agentId)
        // An owner below an epoch already seen as owner: a stale copy took authority back.
        if (max !== undefined && cmp(epoch, max.epoch) < 0) {
          this.violation('epoch-went-back', `${row.agentId} ACTIVE_OWNER on ${node} at ${show(epoch)} after ${show(max.epoch)} on ${max.node}`)
        }
        if (max === undefined || cmp(epoch, max.epoch) > 0) this.maxOwner.set(row.agentId, { epoch, node })
        if (owning(row)) {
          if (!owners.has(row.agentId)) owners.set(row.agentId, new Map())
          owners.get(row.agentId).set(node, row)
        }
      }
    }
    // Two nodes that both report the agent as owner and ticking in two consecutive rounds: a legitimate
    // hand-off cannot span two rounds (the source stops being owner before the target becomes it).
    for (const [agentId, nodes] of owners) {
      const before = this.previous.get(agentId)
      if (nodes.size > 1 && before !== undefined && before.size > 1) {
        const both = [...nodes.keys()].filter((n) => before.has(n))
        if (both.length > 1) {
          const advancing = both.filter((n) => BigInt(nodes.get(n).tickNumber) > BigInt(before.get(n).tickNumber))
          this.violation(advancing.length > 1 ? 'ticks-on-two-nodes' : 'owned-twice', `${agentId} owned by ${both.join(' and ')} in two rounds${advancing.length > 1 ? ' with ticks advancing on both' : ''}`)
        }
      }
    }
    this.previous = owners
  }

  /** Every log line of every node. */
  logLine(node, line) {
    const msg = line.msg ?? ''
    if (msg.startsWith('assisted recovery: no peer holds')) this.counts.networkRecoveries++
    else if (msg.startsWith('assisted recovery: a peer holds')) this.counts.networkRetires++
    else if (msg.startsWith('lease expired beyond grace')) this.counts.leaseExpiries++
    else if (msg.startsWith('hand-off outcome unknown')) this.counts.handoffsUnknown++
    else if (msg.startsWith('stale copy retired: superseded')) this.counts.supersededCopies++
    if (/does not decode|CHECKPOINT_CORRUPT/.test(msg)) this.violation('undecodable-checkpoint', `${node.name}: ${msg}`)
  }

  /** Decodes every checkpoint file of every node (after kills, and at the end). */
  async decodeAll(nodes) {
    for (const node of nodes) {
      const dir = join(node.dataDir, 'checkpoints')
      let names = []
      try { names = await readdir(dir) } catch { continue }
      for (const name of names.filter((n) => n.endsWith('.checkpoint'))) {
        let bytes
        try { bytes = await readFile(join(dir, name)) } catch { continue } // removed meanwhile (retired)
        try {
          decodeCheckpoint(new Uint8Array(bytes))
          this.counts.checkpointsDecoded++
        } catch (error) {
          this.violation('undecodable-checkpoint', `${node.name}/${name}: ${error.message}`)
        }
      }
    }
  }

  /**
   * The end state, all nodes up and quiet: every agent ACTIVE_OWNER on exactly
   * one node; anything else left (RECOVERY_REQUIRED, HANDOFF_*) is a stale copy.
   * Returns true when settled (the caller waits and calls again until then).
   */
  settled(answers) {
    const seen = new Map(this.agentIds.map((id) => [id, { owners: [], stale: [] }]))
    for (const [node, status] of answers) {
      if (status === null) return false
      for (const row of status.agents) {
        const entry = seen.get(row.agentId)
        if (entry === undefined) continue
        if (owning(row)) entry.owners.push(node)
        else if (row.state !== 'RETIRED') entry.stale.push(`${node}:${row.state}${row.halted ? ` (${row.halted})` : ''}`)
      }
    }
    this.final = seen
    return [...seen.values()].every((e) => e.owners.length === 1 && e.stale.length === 0)
  }

  finish() {
    for (const [agentId, e] of this.final ?? []) {
      const halted = e.stale.filter((s) => s.includes(':ACTIVE_OWNER ('))
      if (e.owners.length === 0 && halted.length > 0) this.violation('agent-halted', `${agentId}: its owner halted it and no node ticks it at the end (${halted.join(', ')})`)
      else if (e.owners.length === 0) this.violation('agent-lost', `${agentId}: no node owns it at the end${e.stale.length > 0 ? ` (stale: ${e.stale.join(', ')})` : ''}`)
      if (e.owners.length > 1) this.violation('owned-twice-at-end', `${agentId}: owned by ${e.owners.join(', ')}`)
      if (e.owners.length === 1 && e.stale.length > 0 && halted.length === 0) this.violation('stale-copy', `${agentId}: owner ${e.owners[0]}, stale ${e.stale.join(', ')}`)
    }
  }
}
