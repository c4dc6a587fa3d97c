import type { Epoch } from '@igor/epoch'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { Logger } from '@igor/runner'
import { MigrationError, describeCause } from '../errors.js'
import { openStream } from '../net/dial.js'
import { migrationEvents } from '../observer.js'
import { parsePeerAddress } from '../net/addresses.js'
import { decodeAgentStarted } from '../wire/agent-started.js'
import { encodeAgentTransfer } from '../wire/agent-transfer.js'
import { encodeBinaryTransfer, partsLength } from '../wire/binary-encode.js'
import { readJsonMessage, writeMessage } from '../wire/stream-io.js'
import { MIGRATE_PROTOCOL, MIGRATE_PROTOCOL_V2 } from '../wire/types.js'
import type { AgentTransfer } from '../wire/types.js'
import type { HandoffRuntime } from './runtime.js'
import { packageFromSnapshot } from './package.js'

export interface MigrateResult {
  readonly agentId: string
  /** Peer id of the new owner. */
  readonly target: string
  /** The epoch the target granted: `(M+1,0)`. */
  readonly epoch: Epoch
}

export interface SourceContext {
  readonly node: Libp2p
  readonly runtime: HandoffRuntime
  readonly logger: Logger
  /** Time allowed to send the package, and then to receive the reply. */
  readonly transferTimeoutMs: number
  readonly dialTimeoutMs?: number
  /** Hand-off protocols offered, first preferred (default `MIGRATE_PROTOCOLS`: 2.0.0, then 1.0.0). */
  readonly protocols?: readonly string[]
}

/** SPEC §7: what a node offers, binary first; a reference peer negotiates 1.0.0. */
export const MIGRATE_PROTOCOLS: readonly string[] = [MIGRATE_PROTOCOL_V2, MIGRATE_PROTOCOL]

const MAX_REPLY_BYTES = 64 * 1024

/**
 * The source side of SPEC §7. The stream is opened (dial + protocol
 * negotiation) before anything changes, so an unreachable target leaves the
 * agent untouched. From the first byte sent on, only a definite `Success:
 * false` lets the agent tick here again; silence or a broken stream means the
 * target may hold authority, so the agent goes to RECOVERY_REQUIRED.
 */
export async function migrateAgent(ctx: SourceContext, agentId: string, to: string): Promise<MigrateResult> {
  const targetPeer = parsePeerAddress(to).getPeerId() as string
  const self = ctx.node.peerId.toString()
  if (targetPeer === self) throw new MigrationError('BAD_PEER_ADDRESS', `${to} is this node; migrate to another node`)
  const log = ctx.logger.child({ agentId, target: targetPeer })

  const stream = await openStream(ctx.node, to, ctx.protocols ?? MIGRATE_PROTOCOLS, { timeoutMs: ctx.dialTimeoutMs ?? 10_000 })
  const protocol = stream.protocol ?? MIGRATE_PROTOCOL
  let snapshot
  try {
    snapshot = await ctx.runtime.beginHandoff(agentId, to)
  } catch (error) {
    stream.abort(error as Error)
    throw error
  }
  const started = performance.now()
  const message = encodeFor(protocol, { Package: packageFromSnapshot(snapshot), SourceNodeID: self })
  const size = message instanceof Uint8Array ? message.byteLength : partsLength(message)
  log.info({ epoch: snapshot.epoch.toString(), bytes: size, protocol }, 'hand-off: sending package')
  migrationEvents.sendStart(agentId, size)

  const unknownOutcome = async (what: string, error: unknown): Promise<never> => {
    const reason = `hand-off to ${targetPeer} ${what}: ${describeCause(error)}; the target may hold the agent`
    abortQuietly(stream, error)
    await ctx.runtime.failHandoff(agentId, reason)
    throw new MigrationError('OUTCOME_UNKNOWN', `${reason}. ${agentId} is RECOVERY_REQUIRED here: check the target, then \`igord recover ${agentId}\` only if it does not run the agent`, { cause: error })
  }

  const persisted = snapshot.persisted.catch((error: unknown) => log.error({}, `final checkpoint not written: ${describeCause(error)}`))
  try {
    await writeMessage(stream, message, { timeoutMs: ctx.transferTimeoutMs, onProgress: (sent) => migrationEvents.sendProgress(agentId, sent, size) })
  } catch (error) {
    await persisted
    return await unknownOutcome('failed while sending', error)
  }
  // The reply is awaited while HANDOFF_PENDING is made durable, so the fsync does not widen the gap.
  const reply = readJsonMessage(stream.source, { maxBytes: MAX_REPLY_BYTES, timeoutMs: ctx.transferTimeoutMs })
  reply.catch(() => undefined)
  await ctx.runtime.markHandoffPending(agentId, to).catch((error: unknown) => log.error({}, `could not record HANDOFF_PENDING: ${describeCause(error)}`))

  let answer
  try {
    answer = decodeAgentStarted(await reply)
    // A refusal given before the target read the package (`RATE_LIMITED`, `ADMISSION_REFUSED` of the peer) names no agent:
    // it is still a definite refusal of this stream's one package. A success must name this agent.
    const refusedUnread = !answer.Success && answer.AgentID === ''
    if (answer.AgentID !== agentId && !refusedUnread) throw new MigrationError('BAD_REPLY', `reply names agent ${JSON.stringify(answer.AgentID)}, not ${JSON.stringify(agentId)}`)
  } catch (error) {
    await persisted
    return await unknownOutcome('got no usable reply', error)
  }
  await persisted
  await stream.close().catch(() => undefined)

  if (answer.Success) {
    await ctx.runtime.completeHandoff(agentId, targetPeer)
    const epoch = snapshot.epoch.transferred()
    log.info({ epoch: epoch.toString(), ms: Math.round(performance.now() - started) }, 'hand-off complete; agent retired here')
    return { agentId, target: targetPeer, epoch }
  }
  const epoch = await ctx.runtime.revertHandoff(agentId, answer.Error)
  throw new MigrationError('REJECTED', `target ${targetPeer} refused ${agentId}: ${answer.Error}; the agent keeps running here at ${epoch}`, { refusal: answer.Code ?? null })
}

/** The package in the negotiated version's wire format: 2.0.0 as parts (no copy of the big fields), 1.0.0 as one JSON message. */
function encodeFor(protocol: string, transfer: AgentTransfer): Uint8Array | Uint8Array[] {
  return protocol === MIGRATE_PROTOCOL_V2 ? encodeBinaryTransfer(transfer) : encodeAgentTransfer(transfer)
}

function abortQuietly(stream: Stream, error: unknown): void {
  try {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
  } catch {
    // already closed
  }
}
