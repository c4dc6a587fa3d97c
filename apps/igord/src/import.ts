import { open } from 'node:fs/promises'
import { resolve } from 'node:path'
import { DEFAULT_MAX_TRANSFER_BYTES, MigrationError, decodeAgentTransfer, incomingFromTransfer } from '@igor/migration'
import { type AgentStatus, type Logger, type NodeRuntime, RunnerError } from '@igor/runner'
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

/** Reads and decodes an export package, refusing a file over `maxBytes` before reading it. */
export async function readPackageFile(path: string, maxBytes = DEFAULT_MAX_TRANSFER_BYTES): Promise<ReturnType<typeof decodeAgentTransfer>> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new RunnerError('CHECKPOINT_INVALID', `cannot read package ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`)
  }
  try {
    const { size } = await handle.stat()
    if (size > maxBytes) throw new RunnerError('CHECKPOINT_INVALID', `package ${path} is ${size} bytes, over the ${maxBytes}-byte limit (--max-transfer-bytes)`)
    const bytes = await handle.readFile()
    try {
      return decodeAgentTransfer(bytes)
    } catch (error) {
      if (error instanceof MigrationError) throw new MigrationError(error.code, `${path}: ${error.message}`, { cause: error })
      throw error
    }
  } finally {
    await handle.close()
  }
}

/**
 * SPEC §12: an export package is admitted exactly like a package arriving by
 * migration — every §7 check, the replay, the identity, epoch `(M+1,0)`,
 * written durably — and then ticks.
 */
export async function admitPackageFile(runtime: NodeRuntime, path: string, log: Logger, maxBytes?: number): Promise<AgentStatus> {
  const transfer = await readPackageFile(path, maxBytes)
  const incoming = incomingFromTransfer(transfer)
  const status = await runtime.admitAgent({ ...incoming, sourceNodeId: `${transfer.SourceNodeID} (file ${path})` })
  runtime.startAdmitted(incoming.agentId)
  log.info({ agentId: incoming.agentId, epoch: status.epoch.toString(), file: path }, 'agent imported from an export package')
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
