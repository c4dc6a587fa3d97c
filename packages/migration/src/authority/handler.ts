import type { IncomingStreamData, StreamHandler } from '@libp2p/interface'
import type { Logger } from '@igor/runner'
import { describeCause } from '../errors.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import type { AuthorityRuntime } from './runtime.js'
import { decodeAuthorityQuery, encodeAuthorityAnswer } from './wire.js'
import type { AuthorityAnswer } from './wire.js'

const MAX_QUERY_BYTES = 4096
const QUERY_TIMEOUT_MS = 10_000
const REPLY_TIMEOUT_MS = 10_000

/**
 * Answering side of `/igor/authority/1.0.0` (packages/migration/README.md,
 * "Authority protocol"): one query in, one answer out. The fence, when one is
 * needed, is durable before the answer is written.
 */
export function createAuthorityHandler(ctx: { runtime: AuthorityRuntime, logger: Logger, nodeId: string }): StreamHandler {
  return async ({ stream, connection }: IncomingStreamData): Promise<void> => {
    const remote = connection.remotePeer.toString()
    let agentId = ''
    let answer: AuthorityAnswer
    try {
      const query = decodeAuthorityQuery(await readJsonMessage(stream.source, { maxBytes: MAX_QUERY_BYTES, timeoutMs: QUERY_TIMEOUT_MS }))
      agentId = query.AgentID
      const holding = await ctx.runtime.answerAuthorityQuery(agentId, query.Epoch)
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
      ctx.logger.info({
        agentId,
        from: remote,
        asked: query.Epoch.toString(),
        held: holding.held,
        epoch: holding.epoch?.toString() ?? null,
        fenced: holding.fenced?.toString() ?? null
      }, 'authority query answered')
    } catch (error) {
      ctx.logger.warn({ agentId, from: remote }, `authority query not answered: ${describeCause(error)}`)
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
