import type { IncomingStreamData, StreamHandler } from '@libp2p/interface'
import type { Logger } from '@igor/runner'
import { MigrationError, describeCause } from '../errors.js'
import { migrationEvents } from '../observer.js'
import { encodeAgentStarted } from '../wire/agent-started.js'
import { writeMessage } from '../wire/stream-io.js'
import { readAgentTransferFrom } from '../wire/transfer-reader.js'
import { readBinaryTransferFrom } from '../wire/binary-reader.js'
import { InboundGate } from './inbound-limits.js'
import type { InboundTicket } from './inbound-limits.js'
import type { AdmissionMark, HandoffRuntime } from './runtime.js'
import { incomingFromTransfer } from './package.js'

export interface TargetContext {
  readonly runtime: HandoffRuntime
  readonly logger: Logger
  /** This node's peer id, for the reply. */
  readonly nodeId: string
  /** Largest transfer accepted (SPEC §7 target 1: bounded read). */
  readonly maxTransferBytes: number
  /** Time allowed for the whole transfer to arrive. */
  readonly transferTimeoutMs: number
  /** Node-wide caps shared by every inbound stream (issue 8 point 6); default limits when absent. */
  readonly gate?: InboundGate
  /** SPEC §16: told the source's peer id once an arrival from it is admitted (the peer registry learns it). */
  readonly onArrival?: (peerId: string) => void
  /** SPEC §7: this handler serves `/igor/migrate/2.0.0` (binary sections) rather than 1.0.0 (one JSON object). */
  readonly binary?: boolean
}

const REPLY_TIMEOUT_MS = 10_000

/**
 * The target side of SPEC §7 as a libp2p stream handler. Every failure before
 * the agent is admitted is answered with `Success: false` and the reason, and
 * leaves nothing behind; once the checkpoint at `(M+1,0)` is durable the
 * agent is this node's, whether or not the reply reaches the source.
 */
export function createMigrateHandler(ctx: TargetContext): StreamHandler {
  const gate = ctx.gate ?? new InboundGate()
  return async ({ stream, connection }: IncomingStreamData): Promise<void> => {
    const remote = connection.remotePeer.toString()
    const log = ctx.logger.child({ from: remote })
    let agentId = ''
    let admitted = false
    let ticket: InboundTicket | null = null
    let mark: AdmissionMark | undefined
    try {
      const door = ctx.runtime.admissions
      // SPEC §7/§11: a peer whose packages killed this node 3 times is refused before a byte is decoded.
      const refusedPeer = door?.refusal({ peer: remote }) ?? null
      if (refusedPeer !== null) throw new MigrationError('ADMISSION_REFUSED', refusedPeer)
      ticket = gate.admit(remote)
      // SPEC §7 "What a peer can and cannot do": decoded as it arrives, bounded in memory; marked while in progress.
      mark = door?.begin(remote)
      // SPEC §7 2.0.0: the same limits, refusals and checks; only the framing differs.
      const read = ctx.binary === true ? readBinaryTransferFrom : readAgentTransferFrom
      const { transfer, bytes, checkpointHash } = await read(ticket.meter(stream.source), {
        maxBytes: ctx.maxTransferBytes,
        timeoutMs: ctx.transferTimeoutMs,
        ledger: ticket.ledger,
        hooks: {
          onAgentId: (id) => {
            agentId = id
            const refusedAgent = door?.refusal({ agentId: id }) ?? null
            if (refusedAgent !== null) throw new MigrationError('ADMISSION_REFUSED', refusedAgent)
            mark?.agent(id)
          }
        }
      })
      migrationEvents.received(bytes)
      if (transfer.SourceNodeID !== remote) {
        throw new MigrationError('BAD_TRANSFER', `SourceNodeID ${transfer.SourceNodeID} is not the sending peer ${remote}`)
      }
      // 2.0.0: the checkpoint was hashed as it arrived; the chain head reuses that hash (SPEC §12).
      const status = await ctx.runtime.admitAgent(incomingFromTransfer(transfer, checkpointHash))
      mark?.end()
      admitted = true
      migrationEvents.arrival(agentId, null)
      try { ctx.onArrival?.(remote) } catch { /* the registry's trouble is not the hand-off's */ }
      log.info({ agentId, epoch: status.epoch.toString(), protocol: ctx.binary === true ? '2.0.0' : '1.0.0' }, 'hand-off accepted')
      await writeMessage(stream, encodeAgentStarted({ AgentID: agentId, NodeID: ctx.nodeId, Success: true, Error: '' }), { timeoutMs: REPLY_TIMEOUT_MS })
    } catch (error) {
      const reason = describeCause(error)
      if (admitted) {
        log.warn({ agentId }, `reply did not reach the source (${reason}); the agent is ours either way`)
      } else {
        log.warn({ agentId, code: (error as { code?: string }).code }, `hand-off refused: ${reason}`)
        migrationEvents.arrival(agentId, (error as { code?: string }).code ?? 'UNKNOWN')
        await refuse(stream, agentId, ctx.nodeId, reason, refusalCode(error))
      }
    } finally {
      mark?.end()
      ticket?.release()
      if (admitted) ctx.runtime.startAdmitted(agentId)
    }
  }
}

/** SPEC §16: the refusal's typed code goes to the source (`AgentStarted.Code`, ours) so placement never reads the message. */
function refusalCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'UNKNOWN'
}

async function refuse(stream: IncomingStreamData['stream'], agentId: string, nodeId: string, reason: string, code: string): Promise<void> {
  try {
    await writeMessage(stream, encodeAgentStarted({ AgentID: agentId, NodeID: nodeId, Success: false, Error: reason, Code: code }), { timeoutMs: 2_000 })
    await stream.close()
  } catch {
    // A hostile or vanished peer: nothing to tell it.
  }
  try {
    stream.abort(new Error('hand-off refused'))
  } catch {
    // already closed
  }
}
