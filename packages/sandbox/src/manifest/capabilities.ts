/** The `igor` hostcall capabilities an agent may declare (SPEC §5 "Imports an agent may use", §13 `http`, §15 `pricing` and `x402`, §16 `mobility`), in the reference's order (ours after it). */
export const CAPABILITIES = Object.freeze(['clock', 'rand', 'log', 'wallet', 'pricing', 'http', 'x402', 'mobility'] as const)

export type CapabilityName = typeof CAPABILITIES[number]

/** The `igor.*` function each capability provides. */
export const CAPABILITY_IMPORTS: Readonly<Record<CapabilityName, string>> = Object.freeze({
  clock: 'clock_now',
  rand: 'rand_bytes',
  log: 'log_emit',
  wallet: 'wallet_balance',
  // SPEC §15 "Node price": this node's price per second in microcents.
  pricing: 'node_price',
  http: 'http_request',
  // SPEC §15 `wallet_pay`: the agent pays a named recipient from its budget.
  x402: 'wallet_pay',
  // SPEC §16 "The agent decides" (ours): ask the node to move the agent somewhere cheaper.
  mobility: 'request_move'
})

/**
 * Highest version of each capability this node implements. A manifest asking
 * for a newer one is refused rather than run with semantics it did not ask for.
 */
export const CAPABILITY_VERSIONS: Readonly<Record<CapabilityName, number>> = Object.freeze({
  clock: 1,
  rand: 1,
  log: 1,
  wallet: 1,
  pricing: 1,
  http: 1,
  x402: 1,
  mobility: 1
})

export function isCapabilityName(name: string): name is CapabilityName {
  return (CAPABILITIES as readonly string[]).includes(name)
}

/** The capability behind an `igor.<name>` import, or undefined for an unknown name. */
export function capabilityForImport(importName: string): CapabilityName | undefined {
  return MORE_IMPORTS[importName] ?? CAPABILITIES.find((capability) => CAPABILITY_IMPORTS[capability] === importName)
}

/** SPEC §15: the `igor.*` functions a capability provides besides its first one. */
const MORE_IMPORTS: Readonly<Record<string, CapabilityName>> = Object.freeze({
  wallet_receipt_count: 'wallet',
  wallet_receipt: 'wallet'
})
