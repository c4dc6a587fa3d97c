// SPEC §16 `igord drain`: asks the running node to empty itself, prints its progress, waits for it to stop.
import { ControlUnavailableError, controlRequest } from './control/client.js'
import type { DrainCommand } from './drain-args.js'
import type { DrainReportJson } from './control/protocol.js'
import type { Io } from './io.js'
import { pollProgress } from './poll-progress.js'

/** Each wait for the node to answer a progress request (a node moving 50 agents on a busy machine is slow to answer). */
const ANSWER_MS = 30_000
/** How long the drained node may take to stop (final checkpoints of the agents that stayed). */
const STOP_WAIT_MS = 120_000

/**
 * `POST /drain` on the node of `--data-dir`; while it runs, `GET /drain`
 * every 250 ms and each new progress line on stderr (not with `--json`).
 * Then waits until the node has stopped (its control socket is gone).
 * stdout: one line per agent that stayed (`stayed <id>: <reason>`) and a
 * summary, or one JSON object. Exit 0 when every agent moved and the node
 * stopped, else 1.
 */
export async function runDrain(command: DrainCommand, io: Io): Promise<number> {
  const { dataDir } = command
  await controlRequest(dataDir, 'GET', '/healthz', undefined, ANSWER_MS)
  let shown = 0
  const show = (lines: readonly string[]): void => {
    if (command.json) return
    for (const line of lines.slice(shown)) io.stderr(`${line}\n`)
    shown = Math.max(shown, lines.length)
  }
  const reply = await pollProgress({
    dataDir,
    timeoutMs: ANSWER_MS,
    request: controlRequest(dataDir, 'POST', '/drain', { to: command.to, concurrency: command.concurrency, timeoutMs: command.timeoutMs }, 0),
    path: '/drain',
    lost: 'it stopped answering during the drain, which goes on there — check `igord status`',
    onProgress: (progress) => { if (progress.status === 200) show((progress.body as { lines: string[] }).lines) }
  })
  if (reply.status !== 200) {
    io.stderr(`igord: ${(reply.body as { error?: { message?: string } }).error?.message ?? 'the node refused the drain'}\n`)
    return 1
  }
  const { lines, ...report } = reply.body as DrainReportJson & { lines?: string[] }
  show(lines ?? [])
  const stopped = await nodeStopped(dataDir)
  if (command.json) {
    io.stdout(`${JSON.stringify({ ...report, nodeStopped: stopped })}\n`)
  } else {
    for (const stay of report.stayed) io.stdout(`stayed ${stay.agentId}: ${stay.reason}\n`)
    const took = `${(report.ms / 1000).toFixed(1)} s`
    io.stdout(report.outcome === 'drained'
      ? `drained: ${report.moved.length} agent(s) moved in ${took}; ${stopped ? 'the node stopped' : 'the node has not stopped yet'}\n`
      : `drain finished: ${report.moved.length} of ${report.total} agent(s) moved, ${report.stayed.length} stayed (checkpointed here; start the node again to run them) in ${took}; ${stopped ? 'the node stopped' : 'the node has not stopped yet'}\n`)
  }
  if (!stopped) io.stderr(`igord: the node did not stop within ${STOP_WAIT_MS / 1000} s after the drain; check it (igord status)\n`)
  return report.outcome === 'drained' && stopped ? 0 : 1
}

/** Polls until the node's control socket is gone (the node removes it last, after the final checkpoints). */
async function nodeStopped(dataDir: string): Promise<boolean> {
  const deadline = Date.now() + STOP_WAIT_MS
  while (Date.now() < deadline) {
    try {
      await controlRequest(dataDir, 'GET', '/healthz', undefined, 5_000)
    } catch (error) {
      if (error instanceof ControlUnavailableError && /^no igord is running/.test(error.message)) return true
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}
