// SPEC §16 Peers: `igord peers [--json]`, live through the control socket or offline from peers.json.
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type PeerEntry, readPeersFile } from '@igor/migration'
import { ControlUnavailableError, controlRequest } from './control/client.js'
import type { Io } from './io.js'

/** One peer as `GET /peers` and `igord peers --json` show it; the u64 price is a decimal string (exact). */
export interface PeerJson {
  readonly peerId: string
  readonly addresses: readonly string[]
  readonly price: string | null
  readonly capabilities: readonly string[] | null
  readonly freeSlots: number | null
  /** Unix ms; 0: never seen (a `--peer` not reached yet). */
  readonly lastSeen: number
  readonly failures: number
}

export function peerJson(entry: PeerEntry): PeerJson {
  return {
    peerId: entry.peerId,
    addresses: entry.addresses,
    price: entry.price?.toString() ?? null,
    capabilities: entry.capabilities,
    freeSlots: entry.freeSlots,
    lastSeen: entry.lastSeen,
    failures: entry.failures
  }
}

function renderPeers(peers: readonly PeerJson[]): string {
  if (peers.length === 0) return 'no known peers\n'
  const rows = peers.map((p) => [
    p.peerId,
    p.price ?? '?',
    p.capabilities === null ? '?' : p.capabilities.join(',') || '-',
    p.freeSlots === null ? '?' : String(p.freeSlots),
    p.lastSeen === 0 ? 'never' : new Date(p.lastSeen).toISOString(),
    String(p.failures),
    p.addresses.join(' ') || '-'
  ])
  const head = ['PEER', 'PRICE/S', 'CAPABILITIES', 'FREE', 'LAST SEEN', 'FAILURES', 'ADDRESSES']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i] as number)).join('  ')
  return [line(head), ...rows.map(line)].join('\n') + '\n'
}

/**
 * `igord peers [--json]` (SPEC §16): the running node's registry through its
 * control socket; with no node running on the data directory, its `peers.json`.
 */
export async function runPeersCommand(command: { readonly dataDir: string, readonly json: boolean, readonly timeoutMs: number }, io: Io): Promise<number> {
  let peers: PeerJson[]
  try {
    const reply = await controlRequest(command.dataDir, 'GET', '/peers', undefined, command.timeoutMs)
    const body = reply.body as { peers?: PeerJson[], error?: { message?: string } }
    if (reply.status !== 200) {
      io.stderr(`igord: ${body.error?.message ?? 'the node refused the request'}\n`)
      return 1
    }
    peers = body.peers ?? []
  } catch (error) {
    if (!(error instanceof ControlUnavailableError) || !/^no igord is running/.test(error.message)) throw error
    const exists = await stat(command.dataDir).then((s) => s.isDirectory(), () => false)
    if (!exists) throw new ControlUnavailableError(`no igord is running with data dir ${resolve(command.dataDir)}, and there is no such directory`)
    const problems: string[] = []
    const log = { warn: (_fields: object, message: string) => { problems.push(message) } }
    const entries = await readPeersFile(command.dataDir, log)
    for (const problem of problems) io.stderr(`igord: ${problem}\n`)
    peers = entries.sort((a, b) => b.lastSeen - a.lastSeen || a.peerId.localeCompare(b.peerId)).map(peerJson)
  }
  io.stdout(command.json ? `${JSON.stringify({ peers })}\n` : renderPeers(peers))
  return 0
}
