import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type FenceEntry, type FenceRow, FenceStore } from '@igor/runner'
import { ControlUnavailableError, controlRequest } from './control/client.js'
import type { Io } from './io.js'

/** One fence as `GET /fences` and `igord fences --json` show it; u64 values are decimal strings (exact). */
export interface FenceJson {
  readonly agentId: string
  readonly epoch: { readonly majorVersion: string, readonly leaseGeneration: string }
  /** Hex of the agent key the fence is for; null: every package of the agent. */
  readonly key: string | null
  readonly peer: string | null
  /** Unix ns, or null for a fence written before issue 16. */
  readonly writtenAtNs: string | null
  /** Unix ns when it stops being enforced; null while it guards an agent held here. */
  readonly expiresAtNs: string | null
}

export function fenceJson(row: FenceRow | (FenceEntry & { agentId: string, expiresAtNs?: bigint | null })): FenceJson {
  return {
    agentId: row.agentId,
    epoch: row.epoch.toJSON(),
    key: row.key,
    peer: row.peer,
    writtenAtNs: row.writtenAtNs?.toString() ?? null,
    expiresAtNs: row.expiresAtNs?.toString() ?? null
  }
}

type FencesCommand =
  | { readonly kind: 'fences', readonly dataDir: string, readonly json: boolean, readonly timeoutMs: number }
  | { readonly kind: 'unfence', readonly dataDir: string, readonly agentId: string, readonly json: boolean, readonly timeoutMs: number }

const time = (ns: string | null): string => ns === null ? '-' : new Date(Number(BigInt(ns) / 1_000_000n)).toISOString()

function renderFences(fences: readonly FenceJson[]): string {
  if (fences.length === 0) return 'no fences\n'
  const rows = fences.map((f) => [
    f.agentId,
    `(${f.epoch.majorVersion},${f.epoch.leaseGeneration})`,
    f.key === null ? 'any key' : `${f.key.slice(0, 16)}…`,
    f.peer ?? '-',
    time(f.writtenAtNs),
    f.expiresAtNs === null ? 'never (guards an agent held here)' : time(f.expiresAtNs)
  ])
  const head = ['AGENT', 'EPOCH', 'KEY', 'PEER', 'WRITTEN', 'EXPIRES']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i] as number)).join('  ')
  return [line(head), ...rows.map(line)].join('\n') + '\n'
}

/**
 * `igord fences [--json]` and `igord unfence <id>` (SPEC §7, issue 16): on the
 * running node through its control socket; with no node running on the data
 * directory, on the directory's fence records directly.
 */
export async function runFencesCommand(command: FencesCommand, io: Io): Promise<number> {
  const path = command.kind === 'fences' ? '/fences' : `/agents/${encodeURIComponent(command.agentId)}/unfence`
  let body: { fences?: FenceJson[], error?: { message?: string } }
  try {
    const reply = await controlRequest(command.dataDir, command.kind === 'fences' ? 'GET' : 'POST', path, undefined, command.timeoutMs)
    if (reply.status !== 200) {
      io.stderr(`igord: ${(reply.body as typeof body).error?.message ?? 'the node refused the request'}\n`)
      return 1
    }
    body = reply.body as typeof body
  } catch (error) {
    if (!(error instanceof ControlUnavailableError) || !/^no igord is running/.test(error.message)) throw error
    const exists = await stat(command.dataDir).then((s) => s.isDirectory(), () => false)
    if (!exists) throw new ControlUnavailableError(`no igord is running with data dir ${resolve(command.dataDir)}, and there is no such directory`)
    const store = new FenceStore(command.dataDir)
    body = command.kind === 'fences'
      ? { fences: (await store.list()).map(fenceJson) }
      : { fences: (await store.lift(command.agentId)).map((e) => fenceJson({ ...e, agentId: command.agentId })) }
  }
  const fences = body.fences ?? []
  if (command.json) {
    io.stdout(`${JSON.stringify(command.kind === 'fences' ? { fences } : { unfenced: fences })}\n`)
  } else if (command.kind === 'fences') {
    io.stdout(renderFences(fences))
  } else {
    io.stdout(`unfenced ${command.agentId}: ${fences.map((f) => `(${f.epoch.majorVersion},${f.epoch.leaseGeneration})${f.peer !== null ? ` for ${f.peer}` : ''}`).join(', ')}\n`)
  }
  return 0
}
