import { expect } from 'vitest'
import { EMPTY_MANIFEST } from '../manifest/manifest.js'
import type { Manifest } from '../manifest/manifest.js'
import { recordingLogger } from '@igor/test-kit'
import { prepareAgentModule } from '../wasm/prepare.js'
import { wat } from '@igor/test-kit'
import { AgentSandbox, SandboxError } from './agent-sandbox.js'
import type { SandboxLimits } from './agent-sandbox.js'

/** Compiles `source` (WAT) and starts it in a real sandbox (tests only). */
export async function startWatSandbox(source: string, options: { agentId?: string, manifest?: Manifest, limits?: Partial<SandboxLimits>, agentsPerWorker?: number, beside?: AgentSandbox } = {}) {
  const agentId = options.agentId ?? 'x'
  const prepared = await prepareAgentModule(await wat(source), { path: `${agentId}.wasm`, manifest: options.manifest ?? EMPTY_MANIFEST })
  const logger = recordingLogger()
  const box = await AgentSandbox.start(
    { agentId, module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry },
    { budget: 1000n, state: null, logger, limits: options.limits ?? {}, ...(options.agentsPerWorker !== undefined ? { agentsPerWorker: options.agentsPerWorker } : {}), ...(options.beside !== undefined ? { beside: options.beside } : {}) }
  )
  return { box, logger }
}

/** The SandboxError `promise` rejects with (fails the test when it resolves). */
export async function sandboxFailure(promise: Promise<unknown>): Promise<SandboxError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(SandboxError)
    return error as SandboxError
  }
  throw new Error('expected a sandbox failure')
}
