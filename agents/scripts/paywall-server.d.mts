// Types of scripts/paywall-server.mjs (the x402buyer demo's paywall, SPEC §15 wallet_pay).
import type { Server } from 'node:http'

export declare const RECIPIENT: 'paywall-provider'

export declare function readReceipt(bytes: Buffer):
  | { error: string }
  | { error?: undefined, amount: bigint, recipient: string, memo: string, key: string }

export declare function startPaywall(options?: { port?: number, host?: string, paymentsFile?: string | null, price?: bigint }):
  Promise<{ server: Server, port: number, paid: Map<number, Set<string>> }>
