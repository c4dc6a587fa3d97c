import { parseCommand, UsageError } from './args.js'
import { controlRequest, ControlUnavailableError } from './control/client.js'
import type { StatusJson } from './control/protocol.js'
import { runDaemon, StartupError } from './daemon.js'
import { runInspectCommand } from './inspect.js'
import { renderStatusText } from './status-format.js'
import { USAGE } from './usage.js'

export interface Io {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

const processIo: Io = {
  stdout: (text) => { process.stdout.write(text) },
  stderr: (text) => { process.stderr.write(text) }
}

/**
 * The igord command line. Expected failures print one line `igord: <reason>`
 * and return a non-zero exit code (SPEC §10); only bugs carry stack traces.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  try {
    const command = parseCommand(argv)
    switch (command.kind) {
      case 'help':
        io.stdout(USAGE)
        return 0
      case 'start':
        return await runDaemon(command)
      case 'inspect':
        return await runInspectCommand(command, io)
      case 'status': {
        const reply = await controlRequest(command.dataDir, 'GET', '/status')
        const status = reply.body as StatusJson
        io.stdout(command.json ? JSON.stringify(status) + '\n' : renderStatusText(status))
        return 0
      }
      case 'recover': {
        const reply = await controlRequest(command.dataDir, 'POST', `/agents/${encodeURIComponent(command.agentId)}/recover`)
        if (reply.status !== 200) return refused(io, reply.body)
        const agent = reply.body.agent
        io.stdout(`recovered ${agent.agentId}: ${agent.state} at (${agent.majorVersion},${agent.leaseGeneration})\n`)
        return 0
      }
      case 'migrate': {
        const reply = await controlRequest(command.dataDir, 'POST', `/agents/${encodeURIComponent(command.agentId)}/migrate`, { to: command.to })
        if (reply.status !== 200) return refused(io, reply.body)
        const result = reply.body
        io.stdout(`migrated ${result.agentId} to ${result.target}: now at epoch (${result.majorVersion},${result.leaseGeneration})\n`)
        return 0
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`igord: ${error.message} (see igord --help)\n`)
      return 2
    }
    if (error instanceof ControlUnavailableError || error instanceof StartupError) {
      io.stderr(`igord: ${error.message}\n`)
      return 1
    }
    const name = (error as { name?: string }).name
    if (name === 'NodeAlreadyRunningError' || name === 'RunnerError' || name === 'MigrationError') {
      io.stderr(`igord: ${(error as Error).message}\n`)
      return 1
    }
    throw error
  }
}

function refused(io: Io, body: { error?: { code?: string, message?: string } }): number {
  io.stderr(`igord: ${body.error?.message ?? 'the node refused the request'}\n`)
  return 1
}
