import { Epoch, U64_MAX } from '@igor/epoch'
import { MigrationError } from '../errors.js'

/** Issue 12 item 4: "what do you hold for agent X (at epoch E)?" — README "Authority protocol". */
export const AUTHORITY_PROTOCOL = '/igor/authority/1.0.0'

/**
 * SPEC §7: the asker's proof of a stake in the agent — its latest checkpoint
 * header (209 bytes, v0x04) and the agent key's signature of the stake
 * statement (`stakeStatement` of `@igor/runner`). Base64 on the wire.
 */
export interface AuthorityProof {
  readonly Header: Uint8Array
  readonly Signature: Uint8Array
}

/** The asker's question: its own epoch for the agent, and (issue 16, optional) its proof of stake. */
export interface AuthorityQuery {
  readonly AgentID: string
  readonly Epoch: Epoch
  readonly Proof?: AuthorityProof
}

/** What the answering node holds, and the fence it now keeps. */
export interface AuthorityAnswer {
  readonly AgentID: string
  readonly NodeID: string
  /**
   * `copy` (live or on disk), `tombstone`, `none`; `unknown` when the asker
   * proved no stake (SPEC §7: nothing said, nothing fenced); `error` when the
   * node could not tell or would not answer now (then `Error` says why).
   */
  readonly Held: 'copy' | 'tombstone' | 'none' | 'unknown' | 'error'
  readonly State: string | null
  readonly Epoch: Epoch | null
  readonly MovedTo: string | null
  /** The fence in force after the answer (packages at or below it are refused), or null. */
  readonly Fenced: Epoch | null
  readonly Error: string
}

const HELD = new Set(['copy', 'tombstone', 'none', 'unknown', 'error'])
const MAX_PROOF_FIELD = 512
const enc = new TextEncoder()

function epochJson(epoch: Epoch | null): { MajorVersion: string, LeaseGeneration: string } | null {
  return epoch === null ? null : { MajorVersion: epoch.majorVersion.toString(), LeaseGeneration: epoch.leaseGeneration.toString() }
}

export function encodeAuthorityQuery(query: AuthorityQuery): Uint8Array {
  const proof = query.Proof === undefined ? {} : { Proof: { Header: base64(query.Proof.Header), Signature: base64(query.Proof.Signature) } }
  return enc.encode(JSON.stringify({ AgentID: query.AgentID, Epoch: epochJson(query.Epoch), ...proof }))
}

export function encodeAuthorityAnswer(answer: AuthorityAnswer): Uint8Array {
  return enc.encode(JSON.stringify({
    AgentID: answer.AgentID,
    NodeID: answer.NodeID,
    Held: answer.Held,
    State: answer.State,
    Epoch: epochJson(answer.Epoch),
    MovedTo: answer.MovedTo,
    Fenced: epochJson(answer.Fenced),
    Error: answer.Error
  }))
}

export function decodeAuthorityQuery(bytes: Uint8Array): AuthorityQuery {
  const json = parse(bytes, 'BAD_TRANSFER')
  const epoch = readEpoch(json.Epoch, 'Epoch', 'BAD_TRANSFER')
  if (epoch === null) throw new MigrationError('BAD_TRANSFER', 'authority query: Epoch is missing')
  const query = { AgentID: readString(json.AgentID, 'AgentID', 'BAD_TRANSFER'), Epoch: epoch }
  if (json.Proof === undefined || json.Proof === null) return query
  if (typeof json.Proof !== 'object' || Array.isArray(json.Proof)) throw new MigrationError('BAD_TRANSFER', 'authority query: Proof must be an object')
  const proof = json.Proof as Record<string, unknown>
  return { ...query, Proof: { Header: readBase64(proof.Header, 'Proof.Header'), Signature: readBase64(proof.Signature, 'Proof.Signature') } }
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

function readBase64(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || value.length > MAX_PROOF_FIELD || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new MigrationError('BAD_TRANSFER', `authority query: ${field} must be base64 (at most ${MAX_PROOF_FIELD} characters)`)
  }
  return new Uint8Array(Buffer.from(value, 'base64'))
}

export function decodeAuthorityAnswer(bytes: Uint8Array): AuthorityAnswer {
  const json = parse(bytes, 'BAD_REPLY')
  const held = json.Held
  if (typeof held !== 'string' || !HELD.has(held)) throw new MigrationError('BAD_REPLY', `authority answer: Held must be one of ${[...HELD].join(', ')}`)
  const nullableString = (value: unknown, field: string): string | null => value === null || value === undefined ? null : readString(value, field, 'BAD_REPLY')
  return {
    AgentID: readString(json.AgentID, 'AgentID', 'BAD_REPLY'),
    NodeID: readString(json.NodeID, 'NodeID', 'BAD_REPLY'),
    Held: held as AuthorityAnswer['Held'],
    State: nullableString(json.State, 'State'),
    Epoch: readEpoch(json.Epoch, 'Epoch', 'BAD_REPLY'),
    MovedTo: nullableString(json.MovedTo, 'MovedTo'),
    Fenced: readEpoch(json.Fenced, 'Fenced', 'BAD_REPLY'),
    Error: nullableString(json.Error, 'Error') ?? ''
  }
}

type Code = 'BAD_TRANSFER' | 'BAD_REPLY'

function parse(bytes: Uint8Array, code: Code): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw new MigrationError(code, `authority message is not JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MigrationError(code, 'authority message is not a JSON object')
  return value as Record<string, unknown>
}

function readString(value: unknown, field: string, code: Code): string {
  if (typeof value !== 'string') throw new MigrationError(code, `authority message: ${field} must be a string`)
  return value
}

/** u64 values travel as decimal strings, so they stay exact above 2^53. */
function readEpoch(value: unknown, field: string, code: Code): Epoch | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'object' || Array.isArray(value)) throw new MigrationError(code, `authority message: ${field} must be an object`)
  const json = value as Record<string, unknown>
  const u64 = (text: unknown, name: string): bigint => {
    if (typeof text !== 'string' || !/^(0|[1-9][0-9]*)$/.test(text) || BigInt(text) > U64_MAX) {
      throw new MigrationError(code, `authority message: ${field}.${name} must be a decimal u64 string`)
    }
    return BigInt(text)
  }
  return new Epoch(u64(json.MajorVersion, 'MajorVersion'), u64(json.LeaseGeneration, 'LeaseGeneration'))
}
