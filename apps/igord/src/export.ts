import { access, readdir, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { readCheckpointHeader } from '@igor/checkpoint-codec'
import { encodeAgentTransfer, packageFromSnapshot } from '@igor/migration'
import { type AgentStatus, HISTORY_DIR, type Logger, type NodeRuntime, RunnerError, readRetainedHistory, writeFileAtomic } from '@igor/runner'
import { HistoryPackageError, type PackageHistory, checkHistoryCheckpoints, encodeHistoryPackage } from './history-package.js'
import { controlRequest } from './control/client.js'
import { agentStatusJson } from './control/protocol.js'
import type { AgentStatusJson } from './control/protocol.js'
import { readPackageFile } from './import.js'
import type { Io } from './io.js'

/** `igord export <agentId> --out <file>` (SPEC §12). */
export interface ExportCommand {
  readonly kind: 'export'
  readonly dataDir: string
  readonly agentId: string
  readonly out: string
  readonly json: boolean
  readonly timeoutMs: number
  /** `--with-history`: the file carries the agent's retained history too (history-package.ts). */
  readonly withHistory?: boolean
}

/** The hand-off record's peer while an export is under way: how a restart knows what it was doing. */
const EXPORT_PEER = 'export:'

/** The tombstone's `movedTo` (SPEC §12: `exported to <file>`). */
export const exportedTo = (file: string): string => `exported to ${file}`

const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

/**
 * The offline hand-off (SPEC §12 "Moving an agent without the network"), the
 * §7 source steps with a file in place of the peer:
 * 1. `HANDOFF_INITIATED` (durable), no new ticks, the final checkpoint at the
 *    live epoch (`beginHandoff`, the same as a migration's source);
 * 2. the package — the very bytes a hand-off would send, built by the same
 *    `packageFromSnapshot` — written atomically (temporary, fsync, rename,
 *    fsync of the directory), mode 0600;
 * 3. `RETIRED` with the tombstone `exported to <file>` (durable).
 * A failure before the rename reverts to ACTIVE_OWNER at (M,G+1) with no file;
 * a crash is settled at the next start by `settleInterruptedExports`. So the
 * agent is either owned here or retired with a complete file, never both.
 */
export async function exportAgent(runtime: NodeRuntime, agentId: string, out: string, sourceNodeId: string, log: Logger, withHistory = false): Promise<{ status: AgentStatus, bytes: number, historyCheckpoints?: number }> {
  const file = resolve(out)
  if (await exists(file)) throw new RunnerError('AGENT_EXISTS', `${file} exists; export never overwrites a file (choose another --out)`)
  if (!await exists(dirname(file))) throw new RunnerError('STORE_IO', `cannot write ${file}: no such directory ${dirname(file)}`)
  const snapshot = await runtime.beginHandoff(agentId, `${EXPORT_PEER}${file}`)
  let bytes: Uint8Array = new Uint8Array(0)
  let parts: Uint8Array[] = []
  let history: PackageHistory | null = null
  try {
    await snapshot.persisted
    const pkg = packageFromSnapshot(snapshot)
    bytes = encodeAgentTransfer({ Package: pkg, SourceNodeID: sourceNodeId })
    parts = [bytes]
    if (withHistory) {
      history = await historyForExport(runtime, agentId, pkg.Checkpoint)
      parts = encodeHistoryPackage(bytes, history)
    }
    await writeFileAtomic(dirname(file), basename(file), parts)
  } catch (error) {
    // Renamed into place but not made durable (the directory's fsync failed): the file is the agent now.
    if (bytes.byteLength === 0 || !await exists(file)) {
      // The file is not in place (writeFileAtomic renames last): the agent stays here, ticking at (M,G+1).
      const epoch = await runtime.revertHandoff(agentId, `export failed: ${(error as Error).message}`)
      throw new RunnerError('STORE_IO', `export of ${agentId} to ${file} failed: ${(error as Error).message}; the agent keeps running here at ${epoch.toString()}`, { cause: error })
    }
    log.warn({ agentId, file }, `export file in place, its directory not synced: ${(error as Error).message}`)
  }
  await runtime.completeHandoff(agentId, exportedTo(file))
  const size = parts.reduce((sum, part) => sum + part.byteLength, 0)
  log.info({ agentId, file, bytes: size, epoch: snapshot.epoch.toString(), ...(history !== null ? { historyCheckpoints: history.checkpoints.length } : {}) }, 'agent exported; retired here')
  const row = (await runtime.status()).find((a) => a.agentId === agentId)
  if (row === undefined) throw new RunnerError('AGENT_NOT_FOUND', `${agentId} exported to ${file}, but its tombstone is not listed`)
  return { status: row, bytes: size, ...(history !== null ? { historyCheckpoints: history.checkpoints.length } : {}) }
}

/**
 * The agent's retained history as `igord verify` reads it, ending with the
 * package's checkpoint (the final one, which takes the place of any earlier
 * checkpoint of its tick). Damaged or unsigned history is refused: the export
 * then fails and the agent stays here.
 */
async function historyForExport(runtime: NodeRuntime, agentId: string, checkpoint: Uint8Array): Promise<PackageHistory> {
  const retained = await readRetainedHistory(join(runtime.store.dir, HISTORY_DIR, agentId))
  if (retained.damaged.length > 0) throw new RunnerError('CHECKPOINT_CORRUPT', `history of ${agentId} is damaged (${retained.damaged[0]}); export it without --with-history`)
  const tick = readCheckpointHeader(checkpoint).tickNumber
  const checkpoints = [...retained.checkpoints.filter((c) => c.tick < tick), { tick, bytes: checkpoint }]
  // The same checks an import makes: a file this node would refuse is never written.
  try {
    return checkHistoryCheckpoints(checkpoints, retained.prunedAnchor, checkpoint)
  } catch (error) {
    if (error instanceof HistoryPackageError) throw new RunnerError('CHECKPOINT_CORRUPT', `history of ${agentId}: ${error.message}; export it without --with-history`)
    throw error
  }
}

/**
 * At start, after the stored agents loaded: an agent whose export was cut by
 * a crash comes back RECOVERY_REQUIRED with `export:<file>` on its record.
 * A complete package of it at that epoch in place → the export happened:
 * retire here (`exported to <file>`). No such file → it did not: take the
 * agent back (ACTIVE_OWNER at a higher generation) and drop any temporary.
 */
export async function settleInterruptedExports(runtime: NodeRuntime, log: Logger): Promise<void> {
  for (const candidate of runtime.recoveryCandidates()) {
    const peer = candidate.peer
    if (peer === undefined || !peer.startsWith(EXPORT_PEER)) continue
    const file = peer.slice(EXPORT_PEER.length)
    const { agentId, epoch } = candidate
    try {
      const complete = await readPackageFile(file).then((t) => t.Package.AgentID === agentId && t.Package.MajorVersion === epoch.majorVersion && t.Package.LeaseGeneration === epoch.leaseGeneration, () => false)
      if (complete) {
        await runtime.retireAt(agentId, epoch, exportedTo(file), `exported to ${file} (completed after a restart)`)
        log.warn({ agentId, file }, 'export cut by a restart: the file is complete; agent retired here')
      } else {
        await removeTemporaries(file)
        const status = await runtime.recoverAt(agentId, epoch)
        log.warn({ agentId, file, epoch: status.epoch.toString() }, 'export cut by a restart before the file was written: agent stays here')
      }
    } catch (error) {
      log.error({ agentId, file }, `interrupted export not settled: ${(error as Error).message}`)
    }
  }
}

async function removeTemporaries(file: string): Promise<void> {
  const dir = dirname(file)
  const prefix = `${basename(file)}.`
  const names = await readdir(dir).catch(() => [] as string[])
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined)
  }
}

/** `POST /agents/<id>/export` `{"out": "<absolute path>"}` on the control socket. Null: not this route. */
export async function exportRoute(method: string, path: string, body: unknown, runtime: NodeRuntime | null, nodeId: string | null, log: Logger): Promise<{ status: number, body: unknown } | null> {
  const match = /^\/agents\/([^/]+)\/export$/.exec(path)
  if (method !== 'POST' || match === null || runtime === null) return null
  const out = (body as { out?: unknown } | null)?.out
  if (typeof out !== 'string' || out === '') return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'export needs {"out": "<file>"}' } } }
  const withHistory = (body as { withHistory?: unknown }).withHistory
  if (withHistory !== undefined && typeof withHistory !== 'boolean') return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'export: "withHistory" must be true or false' } } }
  const agentId = decodeURIComponent(match[1] as string)
  const { status, bytes, historyCheckpoints } = await exportAgent(runtime, agentId, out, nodeId ?? 'igord-export', log, withHistory === true)
  return { status: 200, body: { agent: agentStatusJson(status), file: resolve(out), bytes, ...(historyCheckpoints !== undefined ? { historyCheckpoints } : {}) } }
}

/** The client: one request to the running node; the file is written by the node, where the agent is. */
export async function runExport(command: ExportCommand, io: Io): Promise<number> {
  const out = resolve(command.out) // SPEC §14: relative to where the command was run
  const reply = await controlRequest(command.dataDir, 'POST', `/agents/${encodeURIComponent(command.agentId)}/export`, { out, ...(command.withHistory === true ? { withHistory: true } : {}) }, command.timeoutMs)
  if (reply.status !== 200) {
    io.stderr(`igord: ${(reply.body as { error?: { message?: string } }).error?.message ?? 'the node refused the export'}\n`)
    return 1
  }
  const body = reply.body as { agent: AgentStatusJson, file: string, bytes: number, historyCheckpoints?: number }
  const withHistory = body.historyCheckpoints !== undefined ? `, with ${body.historyCheckpoints} checkpoints of history` : ''
  io.stdout(command.json ? `${JSON.stringify(body)}\n` : `exported ${command.agentId} to ${body.file} (${body.bytes} bytes${withHistory}): retired here at (${body.agent.majorVersion},${body.agent.leaseGeneration})\n`)
  return 0
}
