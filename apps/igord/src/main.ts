import { isIgorError } from '@igor/errors'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseCommand } from './args.js'
import { UsageError } from './flags.js'
import type { StartOptions } from './start-options.js'
import { controlRequest, ControlUnavailableError } from './control/client.js'
import type { StatusJson } from './control/protocol.js'
import { runDaemon, StartupError } from './daemon.js'
import { runMigrate } from './migrate-client.js'
import { runSimulate } from './simulate.js'
import { renderStatusText } from './status-format.js'
import { versionLine } from './flags.js'
import { renderSubcommandHelp, renderUsage } from './usage.js'

import type { Io } from './io.js'
export type { Io } from './io.js'

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
        io.stdout(command.subcommand === null ? renderUsage() : renderSubcommandHelp(command.subcommand))
        return 0
      case 'version':
        io.stdout(`${versionLine()}\n`)
        return 0
      case 'start':
        return await runDaemon(await withAgentDirs(command))
      case 'inspect':
        return await (await import('./inspect.js')).runInspectCommand(command, io) // the inspector loads only for these (issue 21 item 5: not on the start path)
      case 'receipts':
        return await (await import('./receipts.js')).runReceiptsCommand(command, io)
      case 'verify':
        return await (await import('./verify.js')).runVerify(command.dirs, io, command.json)
      case 'history-export':
        return await (await import('./history-export.js')).runHistoryExport(command, io)
      case 'simulate':
        return await runSimulate(command, io)
      case 'status': {
        const reply = await controlRequest(command.dataDir, 'GET', '/status', undefined, command.timeoutMs)
        const status = reply.body as StatusJson
        io.stdout(command.json ? JSON.stringify(status) + '\n' : renderStatusText(status))
        return 0
      }
      case 'recover': {
        const reply = await controlRequest(command.dataDir, 'POST', `/agents/${encodeURIComponent(command.agentId)}/recover`, command.ask.length > 0 ? { ask: command.ask } : undefined, command.timeoutMs)
        if (reply.status !== 200) return refused(io, reply.body)
        const agent = reply.body.agent
        const retired = reply.body.action === 'retire'
        if (command.json) io.stdout(`${JSON.stringify({ action: retired ? 'retired' : 'recovered', agent, ...(retired ? { peer: reply.body.peer } : {}) })}\n`)
        else if (retired) io.stdout(`retired the stale copy of ${command.agentId}: peer ${reply.body.peer} holds it at a higher epoch\n`)
        else io.stdout(`recovered ${agent.agentId}: ${agent.state} at (${agent.majorVersion},${agent.leaseGeneration})\n`)
        return 0
      }
      case 'release': {
        // SPEC §11: lifts a quarantine; the node resumes the agent if it has it stored.
        const reply = await controlRequest(command.dataDir, 'POST', `/agents/${encodeURIComponent(command.agentId)}/release`, undefined, command.timeoutMs)
        if (reply.status !== 200) return refused(io, reply.body)
        const agent = reply.body.agent
        io.stdout(command.json ? `${JSON.stringify({ action: 'released', agent })}\n` : `released ${agent.agentId}: ${agent.halted === null ? `${agent.state} at (${agent.majorVersion},${agent.leaseGeneration})` : agent.halted}\n`)
        return 0
      }
      case 'retire': {
        const reply = await controlRequest(command.dataDir, 'POST', `/agents/${encodeURIComponent(command.agentId)}/retire`, undefined, command.timeoutMs)
        if (reply.status !== 200) return refused(io, reply.body)
        const agent = reply.body.agent
        io.stdout(command.json ? `${JSON.stringify({ action: 'retired', agent })}\n` : `retired ${agent.agentId} here: tombstone at (${agent.majorVersion},${agent.leaseGeneration})\n`)
        return 0
      }
      case 'migrate': // SPEC §16: --to auto is placement among the known peers
        return command.to === 'auto' ? await (await import('./place-client.js')).runPlace(command, io) : await runMigrate(command, io)
      case 'price': // SPEC §15
      case 'price-set':
        return await (await import('./price.js')).runPrice(command, io)
      case 'drain': // SPEC §16
        return await (await import('./drain-client.js')).runDrain(command, io)
      case 'peers': // SPEC §16
        return await (await import('./peers.js')).runPeersCommand(command, io)
      case 'fences': // SPEC §7 (issue 16)
      case 'unfence':
        return await (await import('./fences.js')).runFencesCommand(command, io)
      case 'export': // SPEC §12: the hand-off code loads only for these two
        return await (await import('./export.js')).runExport(command, io)
      case 'import': {
        const asked = await (await import('./import.js')).runImport(command, io)
        return asked ?? await runDaemon(command.start) // no node on that data dir: start one with the agent
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`igord: ${error.message} (see igord ${error.subcommand !== null ? `${error.subcommand} ` : ''}--help)\n`)
      return 2
    }
    if (error instanceof ControlUnavailableError || error instanceof StartupError) {
      io.stderr(`igord: ${error.message}\n`)
      return 1
    }
    const name = (error as { name?: string }).name
    // Every package's expected failure is an IgorError with a one-line message (SPEC §10).
    if (name === 'NodeAlreadyRunningError' || isIgorError(error)) {
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

/** `--run-agents <dir>`: every `*.wasm` in the directory (sorted), each with its sidecar manifest. */
async function withAgentDirs(options: StartOptions): Promise<StartOptions> {
  if (options.agentDirs.length === 0) return options
  const agents = [...options.agents]
  for (const dir of options.agentDirs) {
    let names: string[]
    try {
      names = await readdir(dir)
    } catch (error) {
      throw new UsageError(`--run-agents ${dir}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}`)
    }
    const wasm = names.filter((name) => name.endsWith('.wasm')).sort()
    if (wasm.length === 0) throw new UsageError(`--run-agents ${dir}: no *.wasm files in it`)
    for (const name of wasm) agents.push({ wasmPath: join(dir, name) })
  }
  return { ...options, agents }
}
