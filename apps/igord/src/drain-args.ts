// SPEC §16 `igord drain`: its command line (the node's side is drain.ts, the client drain-client.ts).
import { type ParsedArgs, dataDirOf, parseCount } from './flags.js'

/** `igord drain` as parsed. */
export interface DrainCommand {
  readonly kind: 'drain'
  readonly dataDir: string
  /** `auto` or a multiaddr ending in `/p2p/<peerId>` (checked by the node). */
  readonly to: string
  /** The whole drain: no hand-off starts after it. */
  readonly timeoutMs: number
  readonly concurrency: number
  readonly json: boolean
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 10 * 60_000

export function parseDrain(args: ParsedArgs): DrainCommand {
  const to = args.string('to') ?? 'auto'
  if (to !== 'auto' && !to.startsWith('/')) throw args.usage(`--to must be auto or a multiaddr such as /ip4/10.0.0.2/tcp/4001/p2p/12D3Koo…, got ${JSON.stringify(to)}`)
  const timeoutMs = args.duration('timeout', DEFAULT_DRAIN_TIMEOUT_MS)
  if (timeoutMs <= 0) throw args.usage('--timeout must be more than 0')
  const concurrency = args.read('concurrency', 4, parseCount)
  if (concurrency > 64) throw args.usage(`--concurrency: must be at most 64, got ${concurrency}`)
  return { kind: 'drain', dataDir: dataDirOf(args), to, timeoutMs, concurrency, json: args.boolean('json') }
}
