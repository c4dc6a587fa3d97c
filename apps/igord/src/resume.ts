import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { RunnerError } from '@igor/runner'
import type { NodeRuntime } from '@igor/runner'
import type { StartOptions } from './args.js'

async function readNamed(what: string, path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new RunnerError('CHECKPOINT_INVALID', `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(error)}`)
  }
}

/**
 * `igord resume <checkpoint> --wasm <wasm>` (SPEC §12): the copied checkpoint
 * is validated completely (WASM hash, signature, identity) and only then
 * stored as the agent's checkpoint; the agent then starts like any stored one.
 */
export async function importForResume(runtime: NodeRuntime, options: StartOptions): Promise<void> {
  const resume = options.resume
  const agent = options.agents[0]
  if (resume === undefined || agent === undefined) return
  const agentId = agent.agentId ?? basename(agent.wasmPath).replace(/\.wasm$/i, '')
  const [checkpoint, wasm, identity] = await Promise.all([
    readNamed('checkpoint', resume.checkpointPath),
    readNamed('wasm', agent.wasmPath),
    resume.identityPath === undefined ? undefined : readNamed('identity', resume.identityPath)
  ])
  await runtime.importCheckpoint({
    agentId,
    checkpoint,
    checkpointPath: resume.checkpointPath,
    wasm,
    ...(identity !== undefined ? { identity } : {}),
    ...(resume.identityPath !== undefined ? { identityPath: resume.identityPath } : {})
  })
}
