import type { Epoch } from '@igor/epoch'
import type { AuthorityAnswer } from './wire.js'

/** One peer's reply to a recovery query: an answer, or why there was none. */
export type PeerReply = { readonly address: string, readonly answer: AuthorityAnswer } | { readonly address: string, readonly error: string }

export type RecoveryDecision =
  /** A peer holds the agent at a higher epoch: this copy is stale; retire it here. */
  | { readonly action: 'retire', readonly address: string, readonly peerId: string, readonly epoch: Epoch }
  /** Every peer asked answered, holds nothing newer and fenced at our epoch (or above): recover here at a higher generation. */
  | { readonly action: 'recover' }
  /** No definite answer: stay RECOVERY_REQUIRED and ask again later. */
  | { readonly action: 'wait', readonly why: string }

/**
 * Issue 12 item 4, the asker's rule (README "Authority protocol", step 3):
 * - any peer holding the agent (copy or tombstone) at an epoch above ours → retire;
 * - else, every peer asked gave a definite answer fenced at ≥ our epoch → recover;
 * - else (no answer, `error`, `unknown`: SPEC §7, no stake proven there) → wait.
 *   With no peer to ask, the caller decides (see AssistedRecovery).
 */
export function decideRecovery(ours: Epoch, replies: readonly PeerReply[]): RecoveryDecision {
  for (const reply of replies) {
    if (!('answer' in reply)) continue
    const held = reply.answer.Epoch
    if ((reply.answer.Held === 'copy' || reply.answer.Held === 'tombstone') && held !== null && held.supersedes(ours)) {
      return { action: 'retire', address: reply.address, peerId: reply.answer.NodeID, epoch: held }
    }
  }
  const unsure: string[] = []
  for (const reply of replies) {
    if (!('answer' in reply)) unsure.push(`${reply.address}: ${reply.error}`)
    else if (reply.answer.Held === 'error') unsure.push(`${reply.address}: ${reply.answer.Error}`)
    else if (reply.answer.Held === 'unknown') unsure.push(`${reply.address}: answered unknown (no stake proven there, or its fence records are full)`)
    else if (reply.answer.Fenced === null || ours.supersedes(reply.answer.Fenced)) unsure.push(`${reply.address}: no fence at ${ours.toString()}`)
  }
  if (unsure.length > 0) return { action: 'wait', why: unsure.join('; ') }
  return { action: 'recover' }
}
