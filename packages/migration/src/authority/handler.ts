import type { IncomingStreamData, StreamHandler } from '@libp2p/interface'
import { type AuthorityStake, type Logger, verifyStakeProof } from '@igor/runner'
import { describeCause } from '../errors.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { AuthorityRateLimiter } from './rate-limit.js'
import type { AuthorityRateLimits } from './rate-limit.js'
import type { AuthorityRuntime } from './runtime.js'
import { decodeAuthorityQuery, encodeAuthorityAnswer } from './wire.js'
import type { AuthorityAnswer } from './wire.js'

const MAX_QUERY_BYTES = 4096
const QUERY_TIMEOUT_MS = 10_000
const REPLY_TIMEOUT_MS = 10_000

export interface AuthorityHandlerContext {
  readonly runtime: AuthorityRuntime
  readonly logger: Logger
  readonly nodeId: string
  /** SPEC §7 per-peer and node-wide query rates (DEFAULT_AUTHORITY_RATE_LIMITS). */
  readonly rateLimits?: Partial<AuthorityRateLimits>
}

/**
 * Answering side of `/igor/authority/1.0.0` (packages/migration/README.md,
 * "Authority protocol"): one query in, one answer out. SPEC §7: a query is
 * rate-limited per peer before any disk is read; only an asker with a stake
 * (a valid proof, or the peer of this node's hand-off record) is answered,
 * anyone else gets `unknown`. The fence, when one is needed, is durable
 * before the answer is written.
 */
export function createAuthorityHandler(ctx: AuthorityHandlerContext): StreamHandler {
  const limiter = new AuthorityRateLimiter(ctx.rateLimits)
  return async ({ stream, connection }: IncomingStreamData): Promise<void> => {
    const remote = connection.remotePeer.toString()
    let agentId = ''
    let answer: AuthorityAnswer
    let charged = false
    try {
      const query = decodeAuthorityQuery(await readJsonMessage(stream.source, { maxBytes: MAX_QUERY_BYTES, timeoutMs: QUERY_TIMEOUT_MS }))
      agentId = query.AgentID
      charged = true
      const limited = limiter.take(remote)
      if (limited !== null) {
        if (limited.log) ctx.logger.warn({ from: remote }, `authority queries refused: ${limited.reason}`)
        answer = { AgentID: agentId, NodeID: ctx.nodeId, Held: 'error', State: null, Epoch: null, MovedTo: null, Fenced: null, Error: limited.reason }
      } else {
        let stake: AuthorityStake = { peer: remote, proven: null }
        let proofRefused: string | null = null
        if (query.Proof !== undefined) {
          const checked = verifyStakeProof({ header: query.Proof.Header, signature: query.Proof.Signature }, agentId, ctx.nodeId, remote)
          if ('refused' in checked) proofRefused = checked.refused
          else stake = { peer: remote, proven: checked }
        }
        const holding = await ctx.runtime.answerAuthorityQuery(agentId, query.Epoch, stake)
        answer = {
          AgentID: agentId,
          NodeID: ctx.nodeId,
          Held: holding.held,
          State: holding.state,
          Epoch: holding.epoch,
          MovedTo: holding.movedTo ?? null,
          Fenced: holding.fenced,
          Error: ''
        }
        const fields = {
          agentId,
          from: remote,
          asked: query.Epoch.toString(),
          held: holding.held,
          epoch: holding.epoch?.toString() ?? null,
          fenced: holding.fenced?.toString() ?? null,
          ...(holding.held === 'unknown' ? { why: proofRefused ?? holding.why ?? null } : {})
        }
        // An `unknown` costs the asker nothing to provoke: kept out of the default log (it must not fill a disk).
        if (holding.held === 'unknown') ctx.logger.debug(fields, 'authority query: no stake proven; answered unknown')
        else ctx.logger.info(fields, 'authority query answered')
      }
    } catch (error) {
      // Malformed queries count against the peer too.
      const limited = charged ? null : limiter.take(remote)
      if (limited === null || limited.log) ctx.logger.warn({ agentId, from: remote }, `authority query not answered: ${describeCause(error)}`)
      answer = { AgentID: agentId, NodeID: ctx.nodeId, Held: 'error', State: null, Epoch: null, MovedTo: null, Fenced: null, Error: describeCause(error) }
    }
    try {
      await writeMessage(stream, encodeAuthorityAnswer(answer), { timeoutMs: REPLY_TIMEOUT_MS })
      await stream.close()
    } catch {
      try { stream.abort(new Error('authority answer not delivered')) } catch { /* already closed */ }
    }
  }
}
