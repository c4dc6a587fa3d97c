import { Epoch, U64_MAX } from '@igor/epoch'
import type { AuthorityState } from '@igor/lease'

/**
 * The durable authority record kept beside a checkpoint (SPEC §5): on restart
 * the node reads it first, so an agent caught mid hand-off comes back as
 * `RECOVERY_REQUIRED`, never as a second live copy.
 */
export interface AuthorityRecord {
  state: AuthorityState
  epoch: Epoch
  /** The other node of a hand-off in progress. */
  peer?: string
  /** Why the state was entered (e.g. the recovery reason). */
  reason?: string
  /** Unix nanoseconds of the last change (u64). */
  updatedAtNs: bigint
}

/** Left behind when an agent moved away: this node must never run it again. */
export interface Tombstone {
  agentId: string
  /** The final epoch the agent had on this node. */
  epoch: Epoch
  /** The node it moved to. */
  movedTo: string
  /** Unix nanoseconds of the retirement (u64). */
  retiredAtNs: bigint
  /**
   * SPEC §7: the agent's public key (64 hex) when it had an identity here, so
   * an arrival under this id must be the same agent even after its identity
   * file is gone. Absent in tombstones written before it was kept.
   */
  agentKey?: string
}

/** Format version of both JSON files; a reader refuses any other. */
export const RECORD_FORMAT = 1

// SPEC §3 state strings; a local list so reading a record needs nothing from the lease at run time.
const AUTHORITY_STATES: readonly AuthorityState[] = ['ACTIVE_OWNER', 'HANDOFF_INITIATED', 'HANDOFF_PENDING', 'RETIRED', 'RECOVERY_REQUIRED']

/** Raised for a malformed record; the store turns it into `CHECKPOINT_CORRUPT` naming the file. */
export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError'
}

/** JSON text of an authority record; 64-bit values as decimal strings so they stay exact. */
export function encodeAuthorityRecord(agentId: string, record: AuthorityRecord): string {
  checkState(record.state)
  const json: Record<string, unknown> = {
    format: RECORD_FORMAT,
    agentId,
    state: record.state,
    epoch: epochJson(record.epoch),
    updatedAtNs: u64Text('updatedAtNs', record.updatedAtNs)
  }
  if (record.peer !== undefined) json.peer = checkString('peer', record.peer)
  if (record.reason !== undefined) json.reason = checkString('reason', record.reason)
  return `${JSON.stringify(json, null, 2)}\n`
}

export function decodeAuthorityRecord(agentId: string, text: string): AuthorityRecord {
  const json = parseObject(text)
  checkHeader(json, agentId)
  const state = json.state
  if (!AUTHORITY_STATES.includes(state as AuthorityState)) {
    throw new RecordFormatError(`state must be one of ${AUTHORITY_STATES.join(', ')} (got ${JSON.stringify(state)})`)
  }
  const record: AuthorityRecord = {
    state: state as AuthorityState,
    epoch: readEpoch(json.epoch),
    updatedAtNs: readU64(json, 'updatedAtNs')
  }
  const peer = readOptionalString(json, 'peer')
  if (peer !== undefined) record.peer = peer
  const reason = readOptionalString(json, 'reason')
  if (reason !== undefined) record.reason = reason
  return record
}

export function encodeTombstone(agentId: string, tombstone: Tombstone): string {
  if (tombstone.agentId !== agentId) {
    throw new RangeError(`tombstone.agentId ${JSON.stringify(tombstone.agentId)} does not match ${JSON.stringify(agentId)}`)
  }
  const json = {
    format: RECORD_FORMAT,
    agentId,
    epoch: epochJson(tombstone.epoch),
    movedTo: checkString('movedTo', tombstone.movedTo),
    retiredAtNs: u64Text('retiredAtNs', tombstone.retiredAtNs),
    ...(tombstone.agentKey !== undefined ? { agentKey: checkKeyHex(tombstone.agentKey) } : {})
  }
  return `${JSON.stringify(json, null, 2)}\n`
}

export function decodeTombstone(agentId: string, text: string): Tombstone {
  const json = parseObject(text)
  checkHeader(json, agentId)
  const movedTo = readOptionalString(json, 'movedTo')
  if (movedTo === undefined) throw new RecordFormatError('movedTo is missing')
  const agentKey = readOptionalString(json, 'agentKey')
  if (agentKey !== undefined && !/^[0-9a-f]{64}$/.test(agentKey)) throw new RecordFormatError('agentKey must be 64 lowercase hex digits')
  return { agentId, epoch: readEpoch(json.epoch), movedTo, retiredAtNs: readU64(json, 'retiredAtNs'), ...(agentKey !== undefined ? { agentKey } : {}) }
}

function checkKeyHex(key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new RangeError(`agentKey must be 64 lowercase hex digits, got ${JSON.stringify(key)}`)
  return key
}

function epochJson(epoch: Epoch): { majorVersion: string, leaseGeneration: string } {
  if (!(epoch instanceof Epoch)) throw new TypeError('epoch must be an Epoch')
  return epoch.toJSON()
}

function u64Text(field: string, value: bigint): string {
  if (typeof value !== 'bigint') throw new TypeError(`${field} must be a bigint, got ${typeof value}`)
  if (value < 0n || value > U64_MAX) throw new RangeError(`${field} must be in 0 … 2^64-1, got ${value}`)
  return value.toString()
}

function checkString(field: string, value: string): string {
  if (typeof value !== 'string') throw new TypeError(`${field} must be a string, got ${typeof value}`)
  return value
}

function checkState(state: AuthorityState): void {
  if (!AUTHORITY_STATES.includes(state)) throw new RangeError(`state must be one of ${AUTHORITY_STATES.join(', ')} (got ${JSON.stringify(state)})`)
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new RecordFormatError(`not valid JSON (${(error as Error).message})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordFormatError('not a JSON object')
  return value as Record<string, unknown>
}

function checkHeader(json: Record<string, unknown>, agentId: string): void {
  if (json.format !== RECORD_FORMAT) throw new RecordFormatError(`format must be ${RECORD_FORMAT} (got ${JSON.stringify(json.format)})`)
  // A record copied from another agent's file must not be taken for this agent's.
  if (json.agentId !== agentId) throw new RecordFormatError(`agentId ${JSON.stringify(json.agentId)} does not match ${JSON.stringify(agentId)}`)
}

const DECIMAL = /^(0|[1-9][0-9]*)$/

function readU64(json: Record<string, unknown>, field: string, label = field): bigint {
  const text = json[field]
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    throw new RecordFormatError(`${label} must be a decimal string (got ${JSON.stringify(text)})`)
  }
  const value = BigInt(text)
  if (value > U64_MAX) throw new RecordFormatError(`${label} ${text} exceeds 2^64-1`)
  return value
}

function readEpoch(value: unknown): Epoch {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordFormatError('epoch must be an object')
  const json = value as Record<string, unknown>
  return new Epoch(readU64(json, 'majorVersion', 'epoch.majorVersion'), readU64(json, 'leaseGeneration', 'epoch.leaseGeneration'))
}

function readOptionalString(json: Record<string, unknown>, field: string): string | undefined {
  const value = json[field]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new RecordFormatError(`${field} must be a string (got ${JSON.stringify(value)})`)
  return value
}
