// SPEC §15 `/igor/price/1.0.0`, answering side: one bounded question in (1 KiB, 10 s read deadline as
// the reference), one answer line out, then the stream is closed. Rate-limited per peer (60 answers in
// any minute) and node-wide; over a limit, or for a question that cannot be read, the answer is a
// refusal object (README "Price protocol"). Nothing here touches the disk.
import type { IncomingStreamData, StreamHandler } from '@libp2p/interface'
import type { Logger } from '@igor/runner'
import { describeCause } from '../errors.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { PriceRateLimiter, type PriceRateLimits } from './rate-limit.js'
import type { PriceRuntime } from './runtime.js'
import { decodePriceQuery, encodePriceAnswer, encodePriceRefusal } from './wire.js'

/** Largest question read; `{"agent_id":"<id>"}` is far smaller. */
export const MAX_PRICE_QUERY_BYTES = 1024
/** The reference's read deadline. */
export const PRICE_QUERY_TIMEOUT_MS = 10_000
const REPLY_TIMEOUT_MS = 10_000

export interface PriceHandlerContext {
  readonly runtime: PriceRuntime
  readonly logger: Logger
  readonly nodeId: string
  /** Per-peer and node-wide rates (DEFAULT_PRICE_RATE_LIMITS). */
  readonly rateLimits?: Partial<PriceRateLimits>
  /** Replaces the limiter's clock (tests). */
  readonly now?: () => number
}

export function createPriceHandler(ctx: PriceHandlerContext): StreamHandler {
  const limiter = new PriceRateLimiter(ctx.rateLimits, ctx.now)
  return async ({ stream, connection }: IncomingStreamData): Promise<void> => {
    const remote = connection.remotePeer.toString()
    let reply: Uint8Array
    try {
      const query = decodePriceQuery(await readJsonMessage(stream.source, { maxBytes: MAX_PRICE_QUERY_BYTES, timeoutMs: PRICE_QUERY_TIMEOUT_MS }))
      const limited = limiter.take(remote)
      if (limited !== null) {
        if (limited.log) ctx.logger.warn({ from: remote }, `price queries refused: ${limited.reason}`)
        reply = encodePriceRefusal(ctx.nodeId, 'RATE_LIMITED', `RATE_LIMITED: ${limited.reason}`)
      } else {
        const offer = ctx.runtime.priceOffer()
        reply = encodePriceAnswer({ pricePerSecond: offer.pricePerSecond, nodeId: ctx.nodeId, capabilities: offer.capabilities, agents: offer.agents, maxAgents: offer.maxAgents })
        ctx.logger.debug({ from: remote, agentId: query.agentId ?? null, pricePerSecond: offer.pricePerSecond.toString() }, 'price query answered')
      }
    } catch (error) {
      // A question that cannot be read counts against the peer like an answered one.
      const limited = limiter.take(remote)
      if (limited === null || limited.log) ctx.logger.warn({ from: remote }, `price query not answered: ${describeCause(error)}`)
      reply = limited === null
        ? encodePriceRefusal(ctx.nodeId, 'BAD_REQUEST', `BAD_REQUEST: ${describeCause(error)}`)
        : encodePriceRefusal(ctx.nodeId, 'RATE_LIMITED', `RATE_LIMITED: ${limited.reason}`)
    }
    try {
      await writeMessage(stream, reply, { timeoutMs: REPLY_TIMEOUT_MS })
      await stream.close()
    } catch {
      try { stream.abort(new Error('price answer not delivered')) } catch { /* already closed */ }
    }
  }
}
