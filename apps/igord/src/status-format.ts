import { formatMicrocents } from '@igor/sandbox'
import type { StatusJson } from './control/protocol.js'

function isoFromNs(ns: string): string {
  const value = BigInt(ns)
  if (value === 0n) return '-'
  const ms = value / 1_000_000n
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** `igord status` for people: one line per agent, aligned columns. */
export function renderStatusText(status: StatusJson): string {
  const lines: string[] = []
  lines.push(`node ${status.node.peerId ?? '(no network)'}`)
  for (const address of status.node.addresses) lines.push(`  ${address}`)
  // SPEC §15: what every agent here pays (absent from an older node's answer).
  if (status.node.pricePerSecond !== undefined && status.node.pricePerSecond !== null) lines.push(`price ${status.node.pricePerSecond} microcents per second`)
  // SPEC §7 "What a peer can and cannot do": peers and agent ids refused at the door.
  for (const refused of status.node.refusedAtDoor ?? []) lines.push(`${refused.kind} ${refused.id}: ${refused.reason}`)
  // SPEC §16 igord drain: arrivals are refused; the node stops once every agent is settled.
  const drain = status.node.draining
  if (drain !== undefined) lines.push(`draining (to ${drain.to}): ${drain.moved} of ${drain.total} moved, ${drain.stayed} stayed, ${drain.pending} pending; arrivals refused`)
  // SPEC §12 (ours): the history disk guard has nothing left to prune and free disk is still short.
  const short = status.node.diskShort
  if (short !== undefined) lines.push(`disk short: ${short.freeBytes} bytes free, below --history-min-free (${short.watermarkBytes}) since ${short.since}; every agent's history is down to its newest segment`)
  if (status.agents.length === 0) {
    lines.push('no agents')
    return lines.join('\n') + '\n'
  }
  const header = ['AGENT', 'STATE', 'EPOCH', 'LEASE EXPIRY', 'TICK', 'BUDGET', 'HALTED']
  const rows = status.agents.map((a) => [
    a.agentId,
    a.state,
    `(${a.majorVersion},${a.leaseGeneration})`,
    isoFromNs(a.leaseExpiry),
    a.state === 'RETIRED' ? '-' : a.tickNumber,
    a.state === 'RETIRED' ? '-' : formatMicrocents(BigInt(a.budget)),
    a.halted ?? '-'
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')
  lines.push('', fmt(header), ...rows.map(fmt))
  return lines.join('\n') + '\n'
}
