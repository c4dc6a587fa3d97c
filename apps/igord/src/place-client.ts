// SPEC §16 `igord migrate <id> --to auto`: the node places the agent; this prints its progress and summary.
import { ControlUnavailableError, controlRequest } from './control/client.js'
import type { PlacementJson } from './control/protocol.js'
import type { Io } from './io.js'
import type { MigrateCommand } from './migrate-client.js'

const POLL_MS = 250

/**
 * Asks the running node to place the agent (`POST /agents/<id>/migrate`
 * `{"to":"auto"}`) and, while it does, prints each new progress line on
 * stderr (not with `--json`). The summary line (or the JSON report) goes to
 * stdout; exit 0 once placed, 1 otherwise.
 */
export async function runPlace(command: MigrateCommand, io: Io): Promise<number> {
  const { dataDir, agentId, timeoutMs } = command
  await controlRequest(dataDir, 'GET', '/healthz', undefined, timeoutMs)
  let done = false
  const request = controlRequest(dataDir, 'POST', `/agents/${encodeURIComponent(agentId)}/migrate`, { to: 'auto' }, 0)
    .finally(() => { done = true })
  let shown = 0
  const show = (lines: readonly string[]): void => {
    if (command.json === true) return
    for (const line of lines.slice(shown)) io.stderr(`${line}\n`)
    shown = Math.max(shown, lines.length)
  }
  const watch = (async (): Promise<void> => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      if (done) return
      let reply: { status: number, body: unknown }
      try {
        reply = await controlRequest(dataDir, 'GET', `/placements/${encodeURIComponent(agentId)}`, undefined, timeoutMs)
      } catch (error) {
        if (done) return
        throw new ControlUnavailableError(`${(error as Error).message.replace(/ — try again or raise --timeout$/, '')}; it stopped answering while placing ${agentId}, which may still finish — check \`igord status\``)
      }
      if (reply.status === 200) show((reply.body as { lines: string[] }).lines)
    }
  })()
  watch.catch(() => undefined)
  const reply = await Promise.race([request, watch.then(async () => request)])
  done = true
  if (reply.status !== 200) {
    io.stderr(`igord: ${(reply.body as { error?: { message?: string } }).error?.message ?? 'the node refused the request'}\n`)
    return 1
  }
  const report = reply.body as PlacementJson
  io.stdout(command.json === true ? `${JSON.stringify(report)}\n` : `${report.summary}\n`)
  return report.outcome === 'placed' ? 0 : 1
}
