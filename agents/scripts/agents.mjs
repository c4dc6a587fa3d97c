// The agent registry: every agent the build produces, its source, and the
// facts its manifest is generated from. The single source of truth for
// build.mjs, index.js and the tests (kept under scripts/ so turbo's build
// inputs see every change to it).

import { readFileSync } from 'node:fs'

const MiB = 1024 * 1024

/** Capability name → the `igor` import it grants (SPEC §5). */
export const CAPABILITY_IMPORTS = Object.freeze({
  clock: 'clock_now',
  rand: 'rand_bytes',
  log: 'log_emit',
  wallet: 'wallet_balance',
  pricing: 'node_price',
  http: 'http_request',
  x402: 'wallet_pay',
  mobility: 'request_move'
})

/** The exports every agent must have (SPEC §5 agent ABI). */
export const ABI_EXPORTS = Object.freeze([
  'memory',
  'agent_init',
  'agent_tick',
  'agent_checkpoint',
  'agent_checkpoint_ptr',
  'agent_resume',
  'malloc'
])

/** Migration policy shared by every example agent, price in microcents per second. */
const MIGRATION = Object.freeze({ enabled: true, max_price_per_second: 100000 })

/**
 * name: output file stem; entry: AssemblyScript source; capabilities: exactly
 * the igor imports it uses; maxMemoryBytes: manifest cap (null = leave it to
 * the node); constants: compile-time integers (`--use NAME=value`).
 * sdk: built with the @igor/sdk preset, manifest read from `manifestFile`
 * (the demos: each folder holds index.ts, agent.manifest.json and a README).
 */
export const AGENTS = Object.freeze([
  { name: 'survivor', entry: 'assembly/survivor.ts', capabilities: ['clock', 'rand', 'log'], maxMemoryBytes: 1 * MiB },
  { name: 'counter', entry: 'assembly/counter.ts', capabilities: [], maxMemoryBytes: 1 * MiB },
  { name: 'looper', entry: 'assembly/looper.ts', capabilities: [], maxMemoryBytes: 1 * MiB },
  { name: 'trapper', entry: 'assembly/trapper.ts', capabilities: [], maxMemoryBytes: 1 * MiB },
  // No cap on purpose: the node's 64 MiB limit must be what stops it.
  { name: 'hog', entry: 'assembly/hog.ts', capabilities: [], maxMemoryBytes: null },
  // Peak ≈ state + the host's resume buffer + allocator slack (it doubles memory).
  { name: 'bigstate-1m', entry: 'assembly/bigstate.ts', capabilities: [], maxMemoryBytes: 8 * MiB, constants: { BIGSTATE_SIZE: 1 * MiB } },
  { name: 'bigstate-16m', entry: 'assembly/bigstate.ts', capabilities: [], maxMemoryBytes: 48 * MiB, constants: { BIGSTATE_SIZE: 16 * MiB } },
  { name: 'spender', entry: 'assembly/spender.ts', capabilities: ['wallet', 'log'], maxMemoryBytes: 1 * MiB },
  { name: 'pricer', entry: 'assembly/pricer.ts', capabilities: ['pricing', 'log'], maxMemoryBytes: 1 * MiB },
  { name: 'heartbeat', entry: 'demos/heartbeat/index.ts', sdk: true, manifestFile: 'demos/heartbeat/agent.manifest.json', capabilities: ['clock', 'log'], maxMemoryBytes: 4 * MiB },
  { name: 'pricewatcher', entry: 'demos/pricewatcher/index.ts', sdk: true, manifestFile: 'demos/pricewatcher/agent.manifest.json', capabilities: ['clock', 'log', 'http'], maxMemoryBytes: 4 * MiB },
  { name: 'treasury', entry: 'demos/treasury/index.ts', sdk: true, manifestFile: 'demos/treasury/agent.manifest.json', capabilities: ['log', 'http'], maxMemoryBytes: 4 * MiB },
  { name: 'x402buyer', entry: 'demos/x402buyer/index.ts', sdk: true, manifestFile: 'demos/x402buyer/agent.manifest.json', capabilities: ['log', 'http', 'x402'], maxMemoryBytes: 4 * MiB },
  { name: 'nomad', entry: 'demos/nomad/index.ts', sdk: true, manifestFile: 'demos/nomad/agent.manifest.json', capabilities: ['pricing', 'mobility', 'log'], maxMemoryBytes: 4 * MiB }
].map((agent) => Object.freeze(agent)))

/** The sidecar manifest (SPEC §5), as a plain object with a stable key order. */
export function manifestFor(agent) {
  if (agent.manifestFile !== undefined) {
    return JSON.parse(readFileSync(new URL(`../${agent.manifestFile}`, import.meta.url), 'utf8'))
  }
  const manifest = {
    capabilities: Object.fromEntries(agent.capabilities.map((name) => [name, { version: 1 }]))
  }
  if (agent.maxMemoryBytes !== null) {
    manifest.resource_limits = { max_memory_bytes: agent.maxMemoryBytes }
  }
  manifest.migration_policy = { ...MIGRATION }
  return manifest
}
