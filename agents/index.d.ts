/** The example agents built by `pnpm --filter @igor/agents build`. */
export type AgentName =
  | 'survivor'
  | 'counter'
  | 'looper'
  | 'trapper'
  | 'hog'
  | 'bigstate-1m'
  | 'bigstate-16m'
  | 'spender'
  | 'pricer'
  | 'heartbeat'
  | 'pricewatcher'
  | 'treasury'
  | 'nomad'
  | 'x402buyer'

/** Absolute path of agents/build. */
export declare const agentsDir: string

/** Every agent the build produces, in build order. */
export declare const AGENT_NAMES: readonly AgentName[]

/** Thrown by agentPath/manifestPath for a name outside AGENT_NAMES. */
export declare class UnknownAgentError extends Error {
  readonly code: 'UNKNOWN_AGENT'
  constructor(name: string)
}

/** Absolute path of `build/<name>.wasm`. */
export declare function agentPath(name: AgentName): string

/** Absolute path of the sidecar manifest `build/<name>.manifest.json`. */
export declare function manifestPath(name: AgentName): string
