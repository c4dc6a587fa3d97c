import { RECORD_FORMAT, RecordFormatError } from './records.js'

/**
 * SPEC §11: the durable marker of an agent the node will not start until an
 * operator releases it, because the node process kept dying while that agent
 * was loading or inside a call. `checkpoints/<agentId>.quarantine.json`.
 */
export interface QuarantineRecord {
  readonly agentId: string
  /** What the agent was doing at the last death: `loading`, `agent_tick`, `agent_checkpoint`. */
  readonly call: string
  /** Consecutive starts whose previous process died inside this agent's call. */
  readonly starts: number
  /** Unix nanoseconds (u64) when the node quarantined it. */
  readonly quarantinedAtNs: bigint
}

export function encodeQuarantineRecord(record: QuarantineRecord): string {
  return `${JSON.stringify({
    format: RECORD_FORMAT,
    agentId: record.agentId,
    call: record.call,
    starts: record.starts,
    quarantinedAtNs: record.quarantinedAtNs.toString()
  }, null, 2)}\n`
}

export function decodeQuarantineRecord(agentId: string, text: string): QuarantineRecord {
  let json: Record<string, unknown>
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch (error) {
    throw new RecordFormatError(`not valid JSON (${(error as Error).message})`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RecordFormatError('not a JSON object')
  if (json.format !== RECORD_FORMAT) throw new RecordFormatError(`format must be ${RECORD_FORMAT} (got ${JSON.stringify(json.format)})`)
  if (json.agentId !== agentId) throw new RecordFormatError(`agentId ${JSON.stringify(json.agentId)} does not match ${JSON.stringify(agentId)}`)
  if (typeof json.call !== 'string') throw new RecordFormatError('call must be a string')
  if (typeof json.starts !== 'number' || !Number.isSafeInteger(json.starts) || json.starts < 1) throw new RecordFormatError('starts must be a whole number ≥ 1')
  if (typeof json.quarantinedAtNs !== 'string' || !/^(0|[1-9][0-9]*)$/.test(json.quarantinedAtNs)) throw new RecordFormatError('quarantinedAtNs must be a decimal string')
  return { agentId, call: json.call, starts: json.starts, quarantinedAtNs: BigInt(json.quarantinedAtNs) }
}
