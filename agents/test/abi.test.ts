// Every built agent against the ABI and manifest rules of SPEC §5.
import { describe, expect, it } from 'vitest'
import { AGENT_NAMES, type AgentName } from '../index.js'
import {
  CAPABILITY_IMPORTS, type Capability, NODE_MEMORY_LIMIT,
  checkpoint, compiled, instantiate, readManifest, resume, sameBytes, u64At
} from './harness.js'

const ABI_EXPORTS = ['agent_checkpoint', 'agent_checkpoint_ptr', 'agent_init', 'agent_resume', 'agent_tick', 'malloc', 'memory']

// Written out independently of the build's registry, from the agents' brief.
const EXPECTED_CAPABILITIES: Record<AgentName, Capability[]> = {
  survivor: ['clock', 'rand', 'log'],
  counter: [],
  looper: [],
  trapper: [],
  hog: [],
  'bigstate-1m': [],
  'bigstate-16m': [],
  spender: ['wallet', 'log'],
  pricer: ['pricing', 'log'],
  heartbeat: ['clock', 'log'],
  pricewatcher: ['clock', 'log', 'http'],
  treasury: ['log', 'http'],
  x402buyer: ['log', 'http', 'x402'],
  nomad: ['pricing', 'mobility', 'log']
}

// Ticks that are safe to run in the test thread before checkpointing.
const SAFE_TICKS: Partial<Record<AgentName, number>> = { looper: 2, trapper: 2 }

describe.each(AGENT_NAMES.map((name) => [name]))('%s', (name) => {
  it('ships a manifest declaring exactly its capabilities, with migration enabled', () => {
    const manifest = readManifest(name)
    expect(Object.keys(manifest.capabilities).sort()).toEqual([...EXPECTED_CAPABILITIES[name]].sort())
    for (const [cap, declared] of Object.entries(manifest.capabilities)) {
      // http and x402 carry their options (allow-lists, limits: SPEC §13, §15); every other capability is just its version.
      if (cap === 'http' || cap === 'x402') expect(declared.version).toBe(1)
      else expect(declared).toEqual({ version: 1 })
    }
    expect(manifest.migration_policy).toEqual({ enabled: true, max_price_per_second: 100000 })
    if (name === 'hog') {
      expect(manifest.resource_limits?.max_memory_bytes).toBeUndefined()
    } else {
      const cap = manifest.resource_limits?.max_memory_bytes
      expect(cap).toBeGreaterThan(0)
      expect(cap).toBeLessThanOrEqual(NODE_MEMORY_LIMIT)
    }
  })

  it('exports exactly the agent ABI', () => {
    const exports = WebAssembly.Module.exports(compiled(name))
    expect(exports.map((e) => e.name).sort()).toEqual(ABI_EXPORTS)
    for (const e of exports) expect(e.kind).toBe(e.name === 'memory' ? 'memory' : 'function')
  })

  it('imports only the igor functions its manifest grants, and nothing else', () => {
    const imports = WebAssembly.Module.imports(compiled(name))
    const expected = EXPECTED_CAPABILITIES[name].map((cap) => `igor.${CAPABILITY_IMPORTS[cap]}:function`).sort()
    expect(imports.map((i) => `${i.module}.${i.name}:${i.kind}`).sort()).toEqual(expected)
  })

  it('resumes a checkpoint into a fresh instance: same bytes back, tick count continues', () => {
    const ticks = SAFE_TICKS[name] ?? 3
    const { agent } = instantiate(name)
    agent.agent_init()
    for (let i = 0; i < ticks; i++) expect(agent.agent_tick()).toBe(0)
    const saved = checkpoint(agent)
    expect(u64At(saved, 0)).toBe(BigInt(ticks)) // every agent's state starts with its u64 tick count

    const fresh = instantiate(name).agent
    fresh.agent_init()
    resume(fresh, saved)
    expect(sameBytes(checkpoint(fresh), saved)).toBe(true)
    if (name === 'looper') return // its next tick never returns (see agents.test.ts)
    if (name === 'trapper') {
      expect(() => fresh.agent_tick()).toThrow(WebAssembly.RuntimeError) // count continued to 3
      return
    }
    expect(fresh.agent_tick()).toBe(0)
    expect(u64At(checkpoint(fresh), 0)).toBe(BigInt(ticks + 1))
  })

  it('traps on a checkpoint of the wrong length', () => {
    const { agent } = instantiate(name)
    agent.agent_init()
    const saved = checkpoint(agent)
    const fresh = instantiate(name).agent
    fresh.agent_init()
    const longer = new Uint8Array(saved.length + 1)
    longer.set(saved)
    expect(() => resume(fresh, longer)).toThrow(WebAssembly.RuntimeError)
  })

  it('stays within its memory cap through init, resume and ticks', () => {
    const limit = readManifest(name).resource_limits?.max_memory_bytes ?? NODE_MEMORY_LIMIT
    const { agent } = instantiate(name)
    agent.agent_init()
    const saved = checkpoint(agent)
    resume(agent, saved)
    if (name !== 'hog' && name !== 'looper' && name !== 'trapper') agent.agent_tick()
    expect(agent.memory.buffer.byteLength).toBeLessThanOrEqual(limit)
  })
})
