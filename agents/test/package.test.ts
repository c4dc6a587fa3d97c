// The package entry: where the built agents are.
import { existsSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AGENT_NAMES, type AgentName, UnknownAgentError, agentPath, agentsDir, manifestPath } from '../index.js'

describe('@igor/agents', () => {
  it('lists every agent the build produces', () => {
    expect(AGENT_NAMES).toEqual(['survivor', 'counter', 'looper', 'trapper', 'hog', 'bigstate-1m', 'bigstate-16m', 'spender', 'pricer', 'heartbeat', 'pricewatcher', 'treasury', 'x402buyer', 'nomad'])
    expect(Object.isFrozen(AGENT_NAMES)).toBe(true)
  })

  it('points at absolute paths under agents/build that exist after the build', () => {
    expect(isAbsolute(agentsDir)).toBe(true)
    expect(agentsDir.endsWith(join('agents', 'build'))).toBe(true)
    for (const name of AGENT_NAMES) {
      expect(agentPath(name)).toBe(join(agentsDir, `${name}.wasm`))
      expect(manifestPath(name)).toBe(join(agentsDir, `${name}.manifest.json`))
      expect(existsSync(agentPath(name))).toBe(true)
      expect(existsSync(manifestPath(name))).toBe(true)
    }
  })

  it('refuses unknown names with a typed error', () => {
    for (const lookup of [agentPath, manifestPath]) {
      expect(() => lookup('../survivor' as AgentName)).toThrow(UnknownAgentError)
      try {
        lookup('nope' as AgentName)
      } catch (err) {
        expect((err as UnknownAgentError).code).toBe('UNKNOWN_AGENT')
        expect((err as Error).message).toContain('"nope"')
      }
    }
  })
})
