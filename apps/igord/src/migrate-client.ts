import { controlRequest } from './control/client.js'
import type { MigrateResultJson, MigrationProgressJson } from './control/protocol.js'
import type { Io } from './io.js'
import { type ControlReply, pollProgress } from './poll-progress.js'

/** Packages above this size get a live progress line on a terminal (issue 11). */
export const PROGRESS_MIN_BYTES = 1024 * 1024

export interface MigrateCommand {
  readonly dataDir: string
  readonly agentId: string
  readonly to: string
  readonly timeoutMs: number
  /** One JSON object on stdout instead of the summary line (no progress line either). */
  readonly json?: boolean
}

/**
 * `igord migrate`: asks the running node to hand the agent off (SPEC §6), and
 * while it does, asks for progress every 250 ms. `--timeout` bounds each wait
 * for the node to answer, not the transfer (bounded by the node's own
 * `--transfer-timeout`): a node that stops answering is reported plainly.
 * On a terminal, packages over 1 MiB show bytes sent of total and the rate
 * on stderr; the result is one line on stdout either way.
 */
export async function runMigrate(command: MigrateCommand, io: Io, tty: boolean = process.stderr.isTTY): Promise<number> {
  const { dataDir, agentId, timeoutMs } = command
  await controlRequest(dataDir, 'GET', '/healthz', undefined, timeoutMs)
  const abort = new AbortController()
  const request = controlRequest(dataDir, 'POST', `/agents/${encodeURIComponent(agentId)}/migrate`, { to: command.to }, 0, abort.signal)
  let done = false
  let shown = false
  let reply: ControlReply
  try {
    reply = await pollProgress({
      dataDir,
      timeoutMs,
      request: request.finally(() => { done = true }),
      path: `/migrations/${encodeURIComponent(agentId)}`,
      lost: `it stopped answering during the hand-off of ${agentId}, which may still finish — check \`igord status\``,
      onProgress: (answer) => {
        const progress = answer.status === 200 ? answer.body as MigrationProgressJson : null
        if (tty && command.json !== true && progress !== null && progress.total !== null && progress.total > PROGRESS_MIN_BYTES && !done) {
          io.stderr(`\r\x1b[K${renderProgress(agentId, progress.sent, progress.total, progress.ms)}`)
          shown = true
        }
      }
    })
  } catch (error) {
    abort.abort()
    request.catch(() => undefined)
    throw error
  } finally {
    done = true
    if (shown) io.stderr('\r\x1b[K')
  }
  if (reply.status !== 200) {
    io.stderr(`igord: ${(reply.body as { error?: { message?: string } }).error?.message ?? 'the node refused the request'}\n`)
    return 1
  }
  io.stdout(command.json === true ? `${JSON.stringify(reply.body)}\n` : `${renderSummary(reply.body as MigrateResultJson)}\n`)
  return 0
}

/** `migrating survivor: 5.0 MiB of 16.0 MiB (31%), 12.3 MiB/s` */
export function renderProgress(agentId: string, sent: number, total: number, ms: number): string {
  const percent = total === 0 ? 100 : Math.floor((sent / total) * 100)
  return `migrating ${agentId}: ${formatBytes(sent)} of ${formatBytes(total)} (${percent}%), ${formatRate(sent, ms)}`
}

/** `migrated survivor to 12D3…: now at epoch (1,0); 16.0 MiB in 1320 ms (12.1 MiB/s)` */
export function renderSummary(result: MigrateResultJson): string {
  const head = `migrated ${result.agentId} to ${result.target}: now at epoch (${result.majorVersion},${result.leaseGeneration})`
  if (result.bytes === undefined || result.ms === undefined) return head
  return `${head}; ${formatBytes(result.bytes)} in ${result.ms} ms (${formatRate(result.bytes, result.ms)})`
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

function formatRate(bytes: number, ms: number): string {
  return `${formatBytes(ms <= 0 ? bytes : Math.round((bytes * 1000) / ms))}/s`
}
