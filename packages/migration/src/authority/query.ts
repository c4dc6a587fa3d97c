import type { Epoch } from '@igor/epoch'
import type { Libp2p } from '@libp2p/interface'
import { MigrationError } from '../errors.js'
import { openStream } from '../net/dial.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { AUTHORITY_PROTOCOL, decodeAuthorityAnswer, encodeAuthorityQuery } from './wire.js'
import type { AuthorityAnswer } from './wire.js'

const MAX_ANSWER_BYTES = 64 * 1024

/**
 * Asks the node at `address` what it holds for `agentId`, telling it our epoch.
 * Resolves with its answer (which may be `Held: 'error'`); throws a
 * MigrationError when there is no answer at all (dial, timeout, broken stream).
 */
export async function askAuthority(node: Libp2p, address: string, agentId: string, epoch: Epoch, timeoutMs = 30_000): Promise<AuthorityAnswer> {
  const stream = await openStream(node, address, AUTHORITY_PROTOCOL, { timeoutMs: Math.min(timeoutMs, 10_000) })
  try {
    await writeMessage(stream, encodeAuthorityQuery({ AgentID: agentId, Epoch: epoch }), { timeoutMs })
    const answer = decodeAuthorityAnswer(await readJsonMessage(stream.source, { maxBytes: MAX_ANSWER_BYTES, timeoutMs }))
    if (answer.AgentID !== agentId && answer.Held !== 'error') throw new MigrationError('BAD_REPLY', `authority answer names ${JSON.stringify(answer.AgentID)}, not ${JSON.stringify(agentId)}`)
    await stream.close().catch(() => undefined)
    return answer
  } catch (error) {
    try { stream.abort(error as Error) } catch { /* already closed */ }
    throw error
  }
}
