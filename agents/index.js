// Where the built example agents live. Build them first: `pnpm --filter @igor/agents build`.
import { join } from 'node:path'
import { AGENTS } from './scripts/agents.mjs'

export const agentsDir = join(import.meta.dirname, 'build')

export const AGENT_NAMES = Object.freeze(AGENTS.map((agent) => agent.name))

/** Thrown for a name that is not one of AGENT_NAMES. */
export class UnknownAgentError extends Error {
  code = 'UNKNOWN_AGENT'

  constructor(name) {
    super(`unknown agent ${JSON.stringify(name)}; known agents: ${AGENT_NAMES.join(', ')}`)
    this.name = 'UnknownAgentError'
  }
}

function checked(name) {
  if (!AGENT_NAMES.includes(name)) throw new UnknownAgentError(name)
  return name
}

export function agentPath(name) {
  return join(agentsDir, `${checked(name)}.wasm`)
}

export function manifestPath(name) {
  return join(agentsDir, `${checked(name)}.manifest.json`)
}
