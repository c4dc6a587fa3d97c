import type { Epoch } from '@igor/epoch'
import type { Libp2p } from '@libp2p/interface'
import { type StakeSigner, stakeStatement } from '@igor/runner'
import { MigrationError } from '../errors.js'
import { parsePeerAddress } from '../net/addresses.js'
import { openStream } from '../net/dial.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { AUTHORITY_PROTOCOL, decodeAuthorityAnswer, encodeAuthorityQuery } from './wire.js'
import type { AuthorityAnswer, AuthorityProof } from './wire.js'

const MAX_ANSWER_BYTES = 64 * 1024

/**
 * SPEC §7: the proof of stake for one question to one peer — the agent's
 * latest checkpoint header and the agent key's signature binding it to the
 * agent id, the answering peer and this node (`stakeStatement`).
 */
export function stakeProof(signer: StakeSigner, agentId: string, answererPeerId: string, askerPeerId: string): AuthorityProof {
  return { Header: signer.header, Signature: signer.sign(stakeStatement(agentId, answererPeerId, askerPeerId, signer.header)) }
}

/**
 * Asks the node at `address` what it holds for `agentId`, telling it our epoch
 * and, given `stake`, proving our stake in the agent (without it the peer
 * answers `unknown` unless its own hand-off record names us). Resolves with
 * its answer (which may be `Held: 'error'` or `'unknown'`); throws a
 * MigrationError when there is no answer at all (dial, timeout, broken stream).
 */
export async function askAuthority(node: Libp2p, address: string, agentId: string, epoch: Epoch, timeoutMs = 30_000, stake: StakeSigner | null = null): Promise<AuthorityAnswer> {
  const answerer = parsePeerAddress(address).getPeerId() as string
  const proof = stake === null ? {} : { Proof: stakeProof(stake, agentId, answerer, node.peerId.toString()) }
  const stream = await openStream(node, address, AUTHORITY_PROTOCOL, { timeoutMs: Math.min(timeoutMs, 10_000) })
  try {
    await writeMessage(stream, encodeAuthorityQuery({ AgentID: agentId, Epoch: epoch, ...proof }), { timeoutMs })
    const answer = decodeAuthorityAnswer(await readJsonMessage(stream.source, { maxBytes: MAX_ANSWER_BYTES, timeoutMs }))
    if (answer.AgentID !== agentId && answer.Held !== 'error') throw new MigrationError('BAD_REPLY', `authority answer names ${JSON.stringify(answer.AgentID)}, not ${JSON.stringify(agentId)}`)
    await stream.close().catch(() => undefined)
    return answer
  } catch (error) {
    try { stream.abort(error as Error) } catch { /* already closed */ }
    throw error
  }
}
