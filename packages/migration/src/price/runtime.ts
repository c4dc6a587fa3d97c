// SPEC §15 `/igor/price/1.0.0`: what the answering side needs from the node. `NodeRuntime` of
// `@igor/runner` implements it (`priceOffer()`).

/** The node's price and what an arriving agent can get there (ours). */
export interface PriceRuntime {
  priceOffer(): {
    readonly pricePerSecond: bigint
    readonly capabilities: readonly string[]
    readonly agents: number
    readonly maxAgents: number
  }
}

export function isPriceRuntime(runtime: unknown): runtime is PriceRuntime {
  return runtime !== null && typeof (runtime as Partial<PriceRuntime>).priceOffer === 'function'
}
