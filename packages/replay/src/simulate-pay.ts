/**
 * `igord simulate` and SPEC §15 `wallet_pay`: the simulator is the node, so it
 * decides payments with the sandbox's `performWalletPay` against the
 * simulated budget (always the owner), signed by a key of the simulation's
 * own: random, or with `--deterministic --seed n` derived from the seed
 * (SHA-256 of `igor-simulate-agent-key:<n>`), with the payment's time the
 * tick's (n × 1 s), so a deterministic run's receipts repeat byte for byte.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto'
import { type AgentSandbox, type Manifest, performWalletPay } from '@igor/sandbox'
import type { WalletPaySigner } from '@igor/sandbox'

export function simulationSigner(seed: bigint | null): WalletPaySigner {
  const raw = seed === null ? randomBytes(32) : createHash('sha256').update(`igor-simulate-agent-key:${seed}`).digest()
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), raw]), format: 'der', type: 'pkcs8' })
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12))
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, key)) }
}

/** Links `wallet_pay` to the simulated budget; `budget`/`spend` read and lower it, `tick` is the tick in progress. */
export function attachSimulatedPayments(sandbox: AgentSandbox, manifest: Manifest, budget: { get: () => bigint, spend: (amount: bigint) => void }, tick: () => number, seed: bigint | null): void {
  const options = manifest.x402
  if (options === null) return
  const signer = simulationSigner(seed)
  sandbox.setWalletPayHandler((call) => performWalletPay(call, {
    options,
    isOwner: () => true,
    budget: budget.get,
    signer,
    nowNs: () => seed === null ? BigInt(Date.now()) * 1_000_000n : BigInt(tick()) * 1_000_000_000n,
    paid: (amount) => budget.spend(amount)
  }))
}
