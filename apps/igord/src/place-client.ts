// SPEC §16 `igord migrate <id> --to auto`: the node places the agent; this prints its progress and summary.
import { controlRequest } from './control/client.js'
import type { PlacementJson } from './control/protocol.js'
import type { Io } from './io.js'
import type { MigrateCommand } from './migrate-client.js'
import { pollProgress } from './poll-progress.js'

/**
 * Asks the running node to place the agent (`POST /agents/<id>/migrate`
 * `{"to":"auto"}`) and, while it does, prints each new progress line on
 * stderr (not with `--json`). The summary line (or the JSON report) goes to
 * stdout; exit 0 once placed, 1 otherwise.
 */
export async function runPlace(command: MigrateCommand, io: Io): Promise<number> {
  const { dataDir, agentId, timeoutMs } = command
  await controlRequest(dataDir, 'GET', '/healthz', undefined, timeoutMs)
  let shown = 0
  const reply = await pollProgress({
    dataDir,
    timeoutMs,
    request: controlRequest(dataDir, 'POST', `/agents/${encodeURIComponent(agentId)}/migrate`, { to: 'auto' }, 0),
    path: `/placements/${encodeURIComponent(agentId)}`,
    lost: `it stopped answering while placing ${agentId}, which may still finish — check \`igord status\``,
    onProgress: (progress) => {
      if (progress.status !== 200 || command.json === true) return
      const lines = (progress.body as { lines: string[] }).lines
      for (const line of lines.slice(shown)) io.stderr(`${line}\n`)
      shown = Math.max(shown, lines.length)
    }
  })
  if (reply.status !== 200) {
    io.stderr(`igord: ${(reply.body as { error?: { message?: string } }).error?.message ?? 'the node refused the request'}\n`)
    return 1
  }
  const report = reply.body as PlacementJson
  io.stdout(command.json === true ? `${JSON.stringify(report)}\n` : `${report.summary}\n`)
  return report.outcome === 'placed' ? 0 : 1
}
