import { MigrationError } from '../errors.js'
import { EncodeChecks } from './encode-checks.js'
import { DEFAULT_DECODE_LIMITS } from './decode-limits.js'
import type { DecodeLimits } from './decode-limits.js'
import { asBuffer } from './json-parse.js'
import { PullJson } from './pull-json.js'
import { readAgentTransfer } from './transfer-decoder.js'
import { JsonOutput, goQuote } from './json-write.js'
import { RawJson } from './raw-json.js'
import type { AgentPackage, AgentTransfer, ReplayData, ReplayEntry } from './types.js'

const CODE = 'BAD_TRANSFER'
const U16_MAX = 0xffff

/**
 * `AgentTransfer` → the bytes the source writes (SPEC §7): one JSON object
 * and a newline, as Go's `json.Encoder` writes it — struct field order, byte
 * fields as padded standard base64, 64-bit integers as exact JSON numbers,
 * `MajorVersion`/`LeaseGeneration` omitted when 0, `ReplayData`, `Receipts`, `Payments`
 * and `AgentIdentity` omitted when undefined (SPEC §7, §12). Throws `MigrationError('BAD_TRANSFER')` naming the bad field.
 */
export function encodeAgentTransfer(transfer: AgentTransfer): Uint8Array {
  const t = checkTransfer(transfer)
  const out = new JsonOutput()
  out.text(`{"Package":{"AgentID":${goQuote(t.agentId)},"WASMBinary":`).base64(t.wasm)
  out.text(',"WASMHash":').base64(t.hash)
  out.text(',"Checkpoint":').base64(t.checkpoint)
  out.text(',"ManifestData":').base64(t.manifest)
  out.text(`,"Budget":${t.budget},"PricePerSecond":${t.price}`)
  if (t.replay !== undefined) writeReplay(out, t.replay)
  if (t.receipts !== undefined) out.text(`,"Receipts":${t.receipts}`)
  // SPEC §15 wallet_pay (ours): after Receipts, omitted when absent or empty.
  if (t.payments !== undefined && t.payments.length > 0) out.text(',"Payments":').base64(t.payments)
  if (t.major !== 0n) out.text(`,"MajorVersion":${t.major}`)
  if (t.generation !== 0n) out.text(`,"LeaseGeneration":${t.generation}`)
  // SPEC §12: after LeaseGeneration, omitted when absent (Go omitempty: also when empty).
  if (t.identity !== undefined && t.identity.length > 0) out.text(',"AgentIdentity":').base64(t.identity)
  out.text(`},"SourceNodeID":${goQuote(t.source)}}\n`)
  return out.toBytes()
}

/** An `AgentTransfer`'s fields, each checked (the bad one named, `BAD_TRANSFER`); shared by both wire versions. */
export interface CheckedTransfer {
  readonly agentId: string
  readonly wasm: Uint8Array
  readonly hash: Uint8Array
  readonly checkpoint: Uint8Array
  readonly manifest: Uint8Array
  readonly budget: bigint
  readonly price: bigint
  readonly replay: ReplayData | undefined
  /** `Receipts` as JSON text. */
  readonly receipts: string | undefined
  /** SPEC §15 `Payments` (ours): the payments blob. */
  readonly payments: Uint8Array | undefined
  readonly major: bigint
  readonly generation: bigint
  readonly identity: Uint8Array | undefined
  readonly source: string
}

export function checkTransfer(transfer: AgentTransfer): CheckedTransfer {
  const check = new EncodeChecks(CODE)
  check.object('AgentTransfer', transfer)
  const pkg: AgentPackage = transfer.Package
  check.object('AgentTransfer.Package', pkg)
  const f = (name: string): string => `AgentTransfer.Package.${name}`
  return {
    agentId: check.string(f('AgentID'), pkg.AgentID, true),
    wasm: check.bytes(f('WASMBinary'), pkg.WASMBinary),
    hash: check.bytes(f('WASMHash'), pkg.WASMHash),
    checkpoint: check.bytes(f('Checkpoint'), pkg.Checkpoint),
    manifest: check.bytes(f('ManifestData'), pkg.ManifestData),
    budget: check.nonNegativeI64(f('Budget'), pkg.Budget),
    price: check.nonNegativeI64(f('PricePerSecond'), pkg.PricePerSecond),
    replay: pkg.ReplayData === undefined ? undefined : checkReplay(check, pkg.ReplayData),
    receipts: pkg.Receipts === undefined ? undefined : receiptsJson(pkg.Receipts),
    payments: pkg.Payments === undefined ? undefined : check.bytes(f('Payments'), pkg.Payments),
    major: check.u64(f('MajorVersion'), pkg.MajorVersion),
    generation: check.u64(f('LeaseGeneration'), pkg.LeaseGeneration),
    identity: pkg.AgentIdentity === undefined ? undefined : check.bytes(f('AgentIdentity'), pkg.AgentIdentity),
    source: check.string('AgentTransfer.SourceNodeID', transfer.SourceNodeID)
  }
}

function checkReplay(check: EncodeChecks, replay: ReplayData): ReplayData {
  const f = (name: string): string => `AgentTransfer.Package.ReplayData.${name}`
  check.object('AgentTransfer.Package.ReplayData', replay)
  const PreTickState = check.bytes(f('PreTickState'), replay.PreTickState)
  const TickNumber = check.u64(f('TickNumber'), replay.TickNumber)
  if (!Array.isArray(replay.Entries)) check.fail(f('Entries'), 'expected an array')
  const Entries = replay.Entries.map((entry, i): ReplayEntry => {
    check.object(f(`Entries[${i}]`), entry)
    const id = entry.HostcallID
    if (!Number.isInteger(id) || id < 0 || id > U16_MAX) check.fail(f(`Entries[${i}].HostcallID`), `expected a uint16 (0 … 65535), got ${String(id)}`)
    return { HostcallID: id, Payload: check.bytes(f(`Entries[${i}].Payload`), entry.Payload) }
  })
  return { PreTickState, TickNumber, Entries }
}

/** `"ReplayData":{…}` as Go writes `*protocol.ReplayData` (an empty `Entries` as `null`, a nil slice). */
function writeReplay(out: JsonOutput, replay: ReplayData): void {
  out.text(',"ReplayData":{"PreTickState":').base64(replay.PreTickState)
  out.text(`,"TickNumber":${replay.TickNumber},`)
  writeReplayEntries(out, replay)
  out.text('}')
}

/** `"Entries":…` of a `ReplayData` (an empty one as `null`, a Go nil slice). */
export function writeReplayEntries(out: JsonOutput, replay: ReplayData): void {
  out.text('"Entries":')
  if (replay.Entries.length === 0) out.text('null')
  replay.Entries.forEach((entry, i) => {
    out.text(`${i === 0 ? '[' : ','}{"HostcallID":${entry.HostcallID},"Payload":`).base64(entry.Payload).text('}')
  })
  if (replay.Entries.length > 0) out.text(']')
}

function receiptsJson(value: unknown): string {
  try {
    return (value instanceof RawJson ? value : RawJson.from(value)).json
  } catch (err) {
    const reason = err instanceof MigrationError ? err.message.replace(/^RawJson: /, '') : 'not representable as JSON'
    throw new MigrationError(CODE, `AgentTransfer.Package.Receipts: ${reason}`)
  }
}

/**
 * The bytes (or text) of one `AgentTransfer` → the typed value. Integers are
 * exact over their full range; a `null` byte field (Go nil slice) reads as
 * empty; absent `MajorVersion`/`LeaseGeneration` read as 0n; unknown fields
 * are skipped unbuilt (as Go ignores them), duplicate known fields refused.
 * Per-field limits (`DEFAULT_DECODE_LIMITS`) are those of a transfer arriving
 * on a stream (`readAgentTransfer`): the same reader serves both. For any
 * input, the only errors are `MigrationError('BAD_TRANSFER')` naming the
 * field path and `TRANSFER_TOO_LARGE` naming the field over its limit.
 */
export function decodeAgentTransfer(input: Uint8Array | string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): AgentTransfer {
  const src = toSource(input, CODE, 'AgentTransfer')
  const p = new PullJson(CODE, 'AgentTransfer', false)
  const reader = readAgentTransfer(p, limits, null)
  let step = reader.next()
  if (step.done !== true) step = reader.next(src)
  if (step.done !== true) step = reader.next(null)
  if (step.done !== true) throw new MigrationError(CODE, 'AgentTransfer: the reader did not finish')
  const trailing = p.finish('AgentTransfer')
  let rest = trailing.next()
  if (rest.done !== true) rest = trailing.next(null)
  return step.value
}

/** Normalises decoder input; anything that is not bytes or text is refused with the decoder's code. */
export function toSource(input: unknown, code: 'BAD_TRANSFER' | 'BAD_REPLY', what: string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8')
  if (input instanceof Uint8Array) return asBuffer(input)
  throw new MigrationError(code, `${what}: expected bytes or a string, got ${input === null ? 'null' : typeof input}`)
}
