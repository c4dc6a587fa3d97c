import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { type Logger, type NodeRuntime, RunnerError, validateImport } from '@igor/runner'
import { loadManifest } from '@igor/sandbox'
import type { StartOptions } from './start-options.js'

async function readNamed(what: string, path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new RunnerError('CHECKPOINT_INVALID', `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`)
  }
}


/**
 * Before any agent starts (SPEC §12):
 * - `igord import <file>` standalone, and `igord resume <file>` of an export
 *   package: admitted exactly like a migration arrival, at `(M+1,0)`;
 * - `igord resume <checkpoint> --wasm <wasm>` of a raw checkpoint: validated
 *   completely (WASM hash, signature, identity), then refused without
 *   `--force`; with it, every known peer is asked first, and the agent is
 *   admitted as an arrival at `(M+1,0)` (never at the copy's own epoch).
 * Returns the `--run-agent` list without the agent admitted here (it ticks already).
 */
export async function importForResume(runtime: NodeRuntime, options: StartOptions, log: Logger): Promise<StartOptions['agents']> {
  if (options.importPackage !== undefined) {
    const { admitPackageFile } = await import('./import.js') // libp2p's modules load only when needed
    await admitPackageFile(runtime, options.importPackage, log, options.maxTransferBytes)
    return options.agents
  }
  const resume = options.resume
  const agent = options.agents[0]
  if (resume === undefined || agent === undefined) return options.agents
  const agentId = agent.agentId ?? basename(agent.wasmPath).replace(/\.wasm$/i, '')
  const [checkpointBytes, wasm, identityBytes] = await Promise.all([
    readNamed('checkpoint', resume.checkpointPath),
    readNamed('wasm', agent.wasmPath),
    resume.identityPath === undefined ? undefined : readNamed('identity', resume.identityPath)
  ])
  const request = {
    agentId,
    checkpoint: checkpointBytes,
    checkpointPath: resume.checkpointPath,
    wasm,
    ...(identityBytes !== undefined ? { identity: identityBytes } : {}),
    ...(resume.identityPath !== undefined ? { identityPath: resume.identityPath } : {})
  }
  // Every check first: a bad copy gets its own reason, not the fork warning.
  const { checkpoint, identity } = await validateImport(runtime.store, request)
  if (resume.force !== true) throw new RunnerError('FENCED', (await import('./live-agent-warning.js')).liveAgentWarning(checkpoint)) // the inspector loads only here
  const { askPeersBeforeForce } = await import('./resume-peers.js')
  await askPeersBeforeForce({ dataDir: options.dataDir, peers: options.peers, agentId, checkpoint, checkpointBytes, identity, log })
  const manifest = await loadManifest(agent.wasmPath, agent.manifestPath)
  const status = await runtime.admitAgent({
    agentId,
    wasm,
    wasmHash: createHash('sha256').update(wasm).digest(),
    checkpoint: checkpointBytes,
    manifestData: manifest.raw,
    sourceEpoch: checkpoint.epoch,
    sourceNodeId: `resume --force of ${resume.checkpointPath}`,
    ...(identity !== null ? { identity: identity.toBytes() } : {})
  })
  runtime.startAdmitted(agentId)
  log.warn({ agentId, from: resume.checkpointPath, epoch: status.epoch.toString() }, 'raw checkpoint resumed with --force: a new epoch starts here')
  return options.agents.slice(1)
}
