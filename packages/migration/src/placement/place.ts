// SPEC §16 Placement: try the candidates in order, 3 attempts each with backoff, classified by typed error.
import { describeCause } from '../errors.js'
import type { PeerEntry } from '../peers/file.js'
import { PLACEMENT_ATTEMPTS_PER_TARGET, backoffMs } from './backoff.js'
import { type PassedOver, type PlacementNeeds, selectCandidates } from './candidates.js'
import { type AttemptClass, classifyAttempt } from './classify.js'

/** One failed attempt on a target. */
export interface AttemptRecord {
  readonly address: string
  readonly kind: AttemptClass
  /** The code it was classified by. */
  readonly code: string
  /** One line for people (never read by the loop). */
  readonly message: string
}

/** A target that was tried: placed there, or why it was passed over. */
export interface TargetRecord {
  readonly peerId: string
  /** Its known price (decimal string), null: unknown. */
  readonly price: string | null
  readonly outcome: 'placed' | AttemptClass
  readonly attempts: readonly AttemptRecord[]
}

export type PlacementOutcome =
  /** Handed to a target. */
  | 'placed'
  /** No known peer passed the filter. */
  | 'no-candidates'
  /** Every candidate refused or stayed unreachable; the agent is still here, ticking. */
  | 'exhausted'
  /** The package left and no answer came: the agent is RECOVERY_REQUIRED here; assisted recovery takes over. */
  | 'ambiguous'
  /** This node could not start a hand-off (agent not here, halted, busy); nothing changed. */
  | 'local'

export interface PlacementReport<R> {
  readonly agentId: string
  readonly outcome: PlacementOutcome
  /** What the successful attempt returned. */
  readonly placed: R | null
  readonly tried: readonly TargetRecord[]
  /** Known peers the filter left out, and why. */
  readonly passedOver: readonly PassedOver[]
}

/** A progress event, as it happens. */
export type PlacementEvent =
  | { readonly type: 'candidates', readonly candidates: readonly string[], readonly passedOver: readonly PassedOver[] }
  | { readonly type: 'attempt', readonly peerId: string, readonly attempt: number, readonly address: string }
  | { readonly type: 'failed', readonly peerId: string, readonly attempt: number, readonly record: AttemptRecord, readonly retryInMs: number | null }
  | { readonly type: 'placed', readonly peerId: string }

export interface PlacementDeps<R> {
  readonly selfPeerId: string
  /** SPEC §16: a price scan before every placement (its failure does not stop placement). */
  scan(): Promise<unknown>
  /** The registry's entries after the scan. */
  peers(): readonly PeerEntry[]
  /** One hand-off attempt to `address`; throws the hand-off's typed error. */
  attempt(peerId: string, address: string): Promise<R>
  readonly sleep?: (ms: number) => Promise<void>
  readonly onEvent?: (event: PlacementEvent) => void
  readonly attemptsPerTarget?: number
  readonly backoffBaseMs?: number
  readonly backoffCapMs?: number
}

const defaultSleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * `igord migrate <id> --to auto` (SPEC §16). Scans, filters and sorts the
 * known peers, then per candidate makes up to 3 attempts: a definite
 * refusal moves to the next candidate, a transient failure waits (1 s, 2 s,
 * 4 s … ≤ 30 s) and retries the same one (its addresses in turn), an
 * ambiguous outcome or a local failure stops. Never throws for an attempt's
 * failure: the report says what happened.
 */
export async function placeAgent<R>(deps: PlacementDeps<R>, agentId: string, needs: PlacementNeeds): Promise<PlacementReport<R>> {
  const sleep = deps.sleep ?? defaultSleep
  const emit = (event: PlacementEvent): void => { try { deps.onEvent?.(event) } catch { /* progress is best effort */ } }
  try {
    await deps.scan()
  } catch {
    // a scan that could not run leaves the registry's last facts; placement goes on with them
  }
  const { candidates, passedOver } = selectCandidates(deps.peers(), needs, deps.selfPeerId)
  emit({ type: 'candidates', candidates: candidates.map((c) => c.peerId), passedOver })
  const tried: TargetRecord[] = []
  const report = (outcome: PlacementOutcome, placed: R | null = null): PlacementReport<R> => ({ agentId, outcome, placed, tried, passedOver })
  if (candidates.length === 0) return report('no-candidates')
  const perTarget = Math.max(1, deps.attemptsPerTarget ?? PLACEMENT_ATTEMPTS_PER_TARGET)
  for (const peer of candidates) {
    const attempts: AttemptRecord[] = []
    const price = peer.price === null ? null : peer.price.toString()
    for (let n = 0; n < perTarget; n++) {
      const address = peer.addresses[n % peer.addresses.length] as string
      emit({ type: 'attempt', peerId: peer.peerId, attempt: n + 1, address })
      try {
        const placed = await deps.attempt(peer.peerId, address)
        tried.push({ peerId: peer.peerId, price, outcome: 'placed', attempts })
        emit({ type: 'placed', peerId: peer.peerId })
        return report('placed', placed)
      } catch (error) {
        const { kind, code } = classifyAttempt(error)
        const record: AttemptRecord = { address, kind, code, message: describeCause(error) }
        attempts.push(record)
        const retry = kind === 'transient' && n + 1 < perTarget
        const wait = retry ? backoffMs(n, deps.backoffBaseMs, deps.backoffCapMs) : null
        emit({ type: 'failed', peerId: peer.peerId, attempt: n + 1, record, retryInMs: wait })
        if (kind === 'ambiguous' || kind === 'local') {
          tried.push({ peerId: peer.peerId, price, outcome: kind, attempts })
          return report(kind)
        }
        if (wait === null) {
          tried.push({ peerId: peer.peerId, price, outcome: kind, attempts })
          break
        }
        await sleep(wait)
      }
    }
  }
  return report('exhausted')
}
