/**
 * SPEC §5 (and §13 `http`, §15 `pricing`, §16 `mobility`) `igor` hostcalls, one group per capability. Only the groups whose
 * capability the manifest declares are linked at all.
 */
import { randomFillSync } from 'node:crypto'
import type { CapabilityName } from '../manifest/capabilities.js'
import type { HostcallContext } from './hostcall-context.js'
import type { AgentMemory } from './memory.js'
import { httpHostcalls } from './http-hostcall.js'
import { walletPayHostcalls } from './wallet-pay-hostcall.js'

/** SPEC §5: `rand_bytes` longer than 64 MiB answers -2. */
export const MAX_RAND_BYTES = 64 * 1024 * 1024
/** SPEC §5: a `log_emit` line over 1 MiB is dropped (shorter ones are cut at 16 KiB by the output caps). */
export const MAX_LOG_BYTES = 1024 * 1024

export const IGOR_HOSTCALLS: Readonly<Record<CapabilityName, (context: HostcallContext) => WebAssembly.ModuleImports>> = {
  clock: () => ({
    clock_now: (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6))
  }),
  rand: ({ memory }) => ({
    rand_bytes: (ptr: number, len: number): number => {
      if ((len >>> 0) > MAX_RAND_BYTES) return -2
      const target = memory.bytes(ptr, len)
      if (target === null) return -4
      try {
        randomFillSync(target)
        return 0
      } catch {
        return -1
      }
    }
  }),
  log: ({ memory, output }) => ({
    log_emit: (ptr: number, len: number): void => {
      const length = len >>> 0
      if (length > MAX_LOG_BYTES) {
        output.drop(length)
        return
      }
      const bytes = memory.bytes(ptr, Math.min(length, output.limits.maxLineBytes))
      if (bytes === null || memory.bytes(ptr, length) === null) return
      output.line('agent', bytes, length)
    }
  }),
  wallet: ({ budget, receipts, memory }) => ({
    wallet_balance: (): bigint => budget(),
    // SPEC §15: the receipts the node sent (sealed and the open one, oldest first).
    wallet_receipt_count: (): number => receipts().length,
    wallet_receipt: (index: number, ptr: number, len: number): number => walletReceipt(receipts(), memory, index, ptr, len)
  }),
  // SPEC §15 "Node price": the price the node sent with this call (it may change between ticks).
  pricing: ({ price }) => ({
    node_price: (): bigint => price()
  }),
  // SPEC §13: blocks the worker while the node performs the request.
  http: httpHostcalls,
  // SPEC §15 `wallet_pay`: blocks the worker while the node gates, deducts and signs.
  x402: walletPayHostcalls,
  // SPEC §16 "The agent decides": noted here, acted on by the node after the tick.
  mobility: ({ move }) => ({
    request_move: (maxPricePerSecond: bigint): number => move.request(maxPricePerSecond)
  })
}

/** SPEC §15 `wallet_receipt`: −1 bad index, −4 buffer too small or out of bounds, else the receipt written and its length. */
export function walletReceipt(list: readonly Uint8Array[], memory: AgentMemory, index: number, ptr: number, len: number): number {
  const receipt = index >= 0 ? list[index] : undefined
  if (receipt === undefined) return -1
  if (receipt.byteLength > (len >>> 0)) return -4
  const target = memory.bytes(ptr, receipt.byteLength)
  if (target === null) return -4
  target.set(receipt)
  return receipt.byteLength
}
