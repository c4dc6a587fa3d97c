import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import { DEFAULT_MAX_TRANSFER_BYTES, MigrationError, decodeAgentTransfer, incomingFromTransfer } from '@igor/migration'
import { type AgentStatus, type Logger, type NodeRuntime, RunnerError, restoreImportedHistory } from '@igor/runner'
import { HISTORY_PACKAGE_HEADER_LENGTH, HistoryPackageError, MAX_IMPORTED_HISTORY_BYTES, type PackageHistory, checkPackageHistory, isHistoryPackage, splitHistoryPackage } from './history-package.js'
import type { StartOptions } from './start-options.js'
import { controlRequest, ControlUnavailableError } from './control/client.js'
import { agentStatusJson } from './control/protocol.js'
import type { AgentStatusJson } from './control/protocol.js'
import type { Io } from './io.js'

/** `igord import <file>` (SPEC §12): on the running node of `--data-dir`, or standalone (the node starts with it). */
export interface ImportCommand {
  readonly kind: 'import'
  readonly file: string
  readonly json: boolean
  readonly timeoutMs: number
  /** The node to start when none runs on the data directory (its `dataDir` is the one asked). */
  readonly start: StartOptions
}

/** What an export file holds: the package, and the agent's history when it was exported `--with-history`. */
export interface ExportFile {
  readonly transfer: ReturnType<typeof decodeAgentTransfer>
  readonly history: PackageHistory | null
}

/** Reads and decodes an export package, refusing a file over `maxBytes` before reading it. */
export async function readPackageFile(path: string, maxBytes = DEFAULT_MAX_TRANSFER_BYTES): Promise<ReturnType<typeof decodeAgentTransfer>> {
  return (await readExportFile(path, maxBytes, false)).transfer
}

/**
 * Reads an export file: the package alone, or (`igord export --with-history`)
 * the package and the agent's history, every check of the history made here,
 * before anything is written (a bad file is one line, `CHECKPOINT_INVALID`).
 * The package may take `maxBytes`, its history MAX_IMPORTED_HISTORY_BYTES;
 * a larger file is refused before it is read. `withHistory` false skips the
 * history's checks (the export's own crash settlement only needs the package).
 */
export async function readExportFile(path: string, maxBytes = DEFAULT_MAX_TRANSFER_BYTES, withHistory = true): Promise<ExportFile> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new RunnerError('CHECKPOINT_INVALID', `cannot read package ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`)
  }
  try {
    const { size } = await handle.stat()
    const head = new Uint8Array(8)
    await handle.read(head, 0, 8, 0)
    const historic = isHistoryPackage(head)
    const limit = historic ? maxBytes + HISTORY_PACKAGE_HEADER_LENGTH + MAX_IMPORTED_HISTORY_BYTES : maxBytes
    if (size > limit) throw new RunnerError('CHECKPOINT_INVALID', `package ${path} is ${size} bytes, over the ${limit}-byte limit (--max-transfer-bytes${historic ? ' plus the history\'s' : ''})`)
    const bytes = new Uint8Array(await handle.readFile())
    try {
      if (!historic) return { transfer: decodeAgentTransfer(bytes), history: null }
      const split = splitHistoryPackage(bytes, maxBytes)
      const transfer = decodeAgentTransfer(split.pkg)
      return { transfer, history: withHistory ? checkPackageHistory(split.segment, split.prunedAnchor, transfer.Package.Checkpoint) : null }
    } catch (error) {
      if (error instanceof MigrationError) throw new MigrationError(error.code, `${path}: ${error.message}`, { cause: error })
      if (error instanceof HistoryPackageError) throw new RunnerError('CHECKPOINT_INVALID', `${path}: ${error.message}; nothing imported`, { cause: error })
      throw error
    }
  } finally {
    await handle.close()
  }
}

/**
 * SPEC §12: an export package is admitted exactly like a package arriving by
 * migration — every §7 check, the replay, the identity, epoch `(M+1,0)`,
 * written durably — and then ticks. A history that came with it (checked
 * whole when read) is written first, and removed again if the admission fails.
 */
export async function admitPackageFile(runtime: NodeRuntime, path: string, log: Logger, maxBytes?: number): Promise<AgentStatus> {
  const { transfer, history } = await readExportFile(path, maxBytes)
  const incoming = incomingFromTransfer(transfer)
  const undo = history !== null ? await restoreImportedHistory(runtime.store.dir, incoming.agentId, history) : null
  let status: AgentStatus
  try {
    status = await runtime.admitAgent({ ...incoming, sourceNodeId: `${transfer.SourceNodeID} (file ${path})` })
  } catch (error) {
    await undo?.().catch((cleanup: unknown) => log.warn({ agentId: incoming.agentId }, `imported history not removed after a refused import: ${(cleanup as Error).message}`))
    throw error
  }
  runtime.startAdmitted(incoming.agentId)
  const restored = history === null ? {} : { historyCheckpoints: history.checkpoints.length, prunedAnchor: history.prunedAnchor?.toString() ?? null }
  log.info({ agentId: incoming.agentId, epoch: status.epoch.toString(), file: path, ...restored }, 'agent imported from an export package')
  return status
}

/** `POST /import` `{"file": "<absolute path>"}` on the control socket. Null: not this route. */
export async function importRoute(method: string, path: string, body: unknown, runtime: NodeRuntime | null, log: Logger, maxBytes?: number): Promise<{ status: number, body: unknown } | null> {
  if (method !== 'POST' || path !== '/import' || runtime === null) return null
  const file = (body as { file?: unknown } | null)?.file
  if (typeof file !== 'string' || file === '') return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'import needs {"file": "<path>"}' } } }
  return { status: 200, body: { agent: agentStatusJson(await admitPackageFile(runtime, file, log, maxBytes)) } }
}

/**
 * The client: asks the node running on `--data-dir` to import the file; when
 * no node runs there, returns null and the caller starts one with the package.
 */
export async function runImport(command: ImportCommand, io: Io): Promise<number | null> {
  const file = resolve(command.file)
  let reply
  try {
    reply = await controlRequest(command.start.dataDir, 'POST', '/import', { file }, command.timeoutMs)
  } catch (error) {
    if (error instanceof ControlUnavailableError && /^no igord is running/.test(error.message)) return null
    throw error
  }
  if (reply.status !== 200) {
    io.stderr(`igord: ${(reply.body as { error?: { message?: string } }).error?.message ?? 'the node refused the import'}\n`)
    return 1
  }
  const agent = (reply.body as { agent: AgentStatusJson }).agent
  io.stdout(command.json ? `${JSON.stringify({ agent })}\n` : `imported ${agent.agentId}: ${agent.state} at (${agent.majorVersion},${agent.leaseGeneration})\n`)
  return 0
}
