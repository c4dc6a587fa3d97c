// SPEC §16 Placement: the one summary line and the progress lines of `igord migrate <id> --to auto`.
import type { PlacementEvent, PlacementReport, TargetRecord } from './place.js'

const WHY: Record<string, string> = {
  refused: 'refused',
  transient: 'unreachable',
  ambiguous: 'no answer after the package left',
  local: 'could not start'
}

/** Why a tried target was passed over: `refused (UNDECLARED_CAPABILITY)`, `unreachable (DIAL_FAILED ×3)`. */
export function passedOverReason(target: TargetRecord): string {
  const codes = target.attempts.map((a) => a.code)
  const last = codes[codes.length - 1] ?? target.outcome
  const times = codes.filter((c) => c === last).length
  return `${WHY[target.outcome] ?? target.outcome} (${last}${times > 1 ? ` ×${times}` : ''})`
}

/**
 * One line: where the agent went, or why it did not, naming each target
 * tried and why it was passed over, e.g.
 * `placed survivor on 12D3…C (price 2000); passed over 12D3…B: refused (NODE_FULL); left out 12D3…D: does not offer rand`
 * (tried targets under "passed over", peers the filter left out under "left out").
 */
export function placementSummary(report: PlacementReport<unknown>): string {
  const passed = report.tried.filter((t) => t.outcome !== 'placed').map((t) => `${t.peerId}: ${passedOverReason(t)}`)
  const left = report.passedOver.map((p) => `${p.peerId}: ${p.reason}`)
  const tail = (passed.length > 0 ? `; passed over ${passed.join(', ')}` : '') + (left.length > 0 && report.outcome !== 'no-candidates' ? `; left out ${left.join(', ')}` : '')
  const placedOn = report.tried.find((t) => t.outcome === 'placed')
  switch (report.outcome) {
    case 'placed':
      return `placed ${report.agentId} on ${placedOn?.peerId ?? '?'} (price ${placedOn?.price ?? 'unknown'})${tail}`
    case 'no-candidates':
      return `not placed: ${report.agentId} stays here; no candidate among ${report.passedOver.length} known peers${left.length > 0 ? ` (${left.join(', ')})` : ''}`
    case 'exhausted':
      return `not placed: ${report.agentId} stays here; every candidate was passed over${tail}`
    case 'ambiguous':
      return `stopped: ${report.agentId} is RECOVERY_REQUIRED (the package left, no answer came); assisted recovery takes over${tail}`
    case 'local':
      return `not placed: ${report.agentId} could not be handed off from this node${tail}`
  }
}

/** One progress line per event (stderr of `igord migrate --to auto`). */
export function progressLine(agentId: string, event: PlacementEvent): string {
  switch (event.type) {
    case 'candidates':
      return `placing ${agentId}: ${event.candidates.length} candidate(s)${event.candidates.length > 0 ? `: ${event.candidates.join(', ')}` : ''}`
    case 'attempt':
      return `placing ${agentId}: trying ${event.peerId} (attempt ${event.attempt})`
    case 'failed':
      return `placing ${agentId}: ${event.peerId} ${WHY[event.record.kind] ?? event.record.kind} (${event.record.code}): ${event.record.message}${event.retryInMs !== null ? `; retrying in ${event.retryInMs} ms` : ''}`
    case 'placed':
      return `placing ${agentId}: ${event.peerId} accepted`
  }
}
