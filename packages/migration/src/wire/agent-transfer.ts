import { MigrationError } from '../errors.js'
import { EncodeChecks } from './encode-checks.js'
import { FieldReader } from './fields.js'
import { asBuffer, parseJson } from './json-parse.js'
import { JsonOutput, goQuote } from './json-write.js'
import { RawJson } from './raw-json.js'
import type { AgentPackage, AgentTransfer, ReplayData, ReplayEntry } from './types.js'

const CODE = 'BAD_TRANSFER'
const TRANSFER_FIELDS = ['Package', 'SourceNodeID']
const PACKAGE_FIELDS = [
  'AgentID', 'WASMBinary', 'WASMHash', 'Checkpoint', 'ManifestData', 'Budget', 'PricePerSecond', 'ReplayData', 'Receipts',
  'MajorVersion', 'LeaseGeneration', 'AgentIdentity'
]
const REPLAY_FIELDS = ['PreTickState', 'TickNumber', 'Entries']
const ENTRY_FIELDS = ['HostcallID', 'Payload']
const U16_MAX = 0xffff

/**
 * `AgentTransfer` → the bytes the source writes (SPEC §7): one JSON object
 * and a newline, as Go's `json.Encoder` writes it — struct field order, byte
 * fields as padded standard base64, 64-bit integers as exact JSON numbers,
 * `MajorVersion`/`LeaseGeneration` omitted when 0, `ReplayData`, `Receipts`
 * and `AgentIdentity` omitted when undefined (SPEC §7, §12). Throws `MigrationError('BAD_TRANSFER')` naming the bad field.
 */
export function encodeAgentTransfer(transfer: AgentTransfer): Uint8Array {
  const check = new EncodeChecks(CODE)
  check.object('AgentTransfer', transfer)
  const pkg: AgentPackage = transfer.Package
  check.object('AgentTransfer.Package', pkg)
  const f = (name: string): string => `AgentTransfer.Package.${name}`

  const agentId = check.string(f('AgentID'), pkg.AgentID, true)
  const wasm = check.bytes(f('WASMBinary'), pkg.WASMBinary)
  const hash = check.bytes(f('WASMHash'), pkg.WASMHash)
  const checkpoint = check.bytes(f('Checkpoint'), pkg.Checkpoint)
  const manifest = check.bytes(f('ManifestData'), pkg.ManifestData)
  const budget = check.nonNegativeI64(f('Budget'), pkg.Budget)
  const price = check.nonNegativeI64(f('PricePerSecond'), pkg.PricePerSecond)
  const replay = pkg.ReplayData === undefined ? undefined : checkReplay(check, pkg.ReplayData)
  const receipts = pkg.Receipts === undefined ? undefined : receiptsJson(pkg.Receipts)
  const major = check.u64(f('MajorVersion'), pkg.MajorVersion)
  const generation = check.u64(f('LeaseGeneration'), pkg.LeaseGeneration)
  const identity = pkg.AgentIdentity === undefined ? undefined : check.bytes(f('AgentIdentity'), pkg.AgentIdentity)
  const source = check.string('AgentTransfer.SourceNodeID', transfer.SourceNodeID)

  const out = new JsonOutput()
  out.text(`{"Package":{"AgentID":${goQuote(agentId)},"WASMBinary":`).base64(wasm)
  out.text(',"WASMHash":').base64(hash)
  out.text(',"Checkpoint":').base64(checkpoint)
  out.text(',"ManifestData":').base64(manifest)
  out.text(`,"Budget":${budget},"PricePerSecond":${price}`)
  if (replay !== undefined) writeReplay(out, replay)
  if (receipts !== undefined) out.text(`,"Receipts":${receipts}`)
  if (major !== 0n) out.text(`,"MajorVersion":${major}`)
  if (generation !== 0n) out.text(`,"LeaseGeneration":${generation}`)
  // SPEC §12: after LeaseGeneration, omitted when absent (Go omitempty: also when empty).
  if (identity !== undefined && identity.length > 0) out.text(',"AgentIdentity":').base64(identity)
  out.text(`},"SourceNodeID":${goQuote(source)}}\n`)
  return out.toBytes()
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
  out.text(`,"TickNumber":${replay.TickNumber},"Entries":`)
  if (replay.Entries.length === 0) out.text('null')
  replay.Entries.forEach((entry, i) => {
    out.text(`${i === 0 ? '[' : ','}{"HostcallID":${entry.HostcallID},"Payload":`).base64(entry.Payload).text('}')
  })
  if (replay.Entries.length > 0) out.text(']')
  out.text('}')
}

function readReplay(src: Buffer, p: FieldReader): ReplayData | undefined {
  const node = p.optional('ReplayData')
  if (node === undefined || node.kind === 'null') return undefined
  const path = 'AgentTransfer.Package.ReplayData'
  const r = new FieldReader(src, CODE, path, node, REPLAY_FIELDS)
  const PreTickState = r.bytes('PreTickState')
  const TickNumber = r.u64('TickNumber')
  const entriesNode = r.optional('Entries')
  const Entries: ReplayEntry[] = []
  if (entriesNode !== undefined && entriesNode.kind !== 'null') {
    if (entriesNode.kind !== 'array') return r.fail(`${path}.Entries`, 'expected an array')
    entriesNode.items.forEach((item, i) => {
      const e = new FieldReader(src, CODE, `${path}.Entries[${i}]`, item, ENTRY_FIELDS)
      Entries.push({ HostcallID: Number(e.u16('HostcallID')), Payload: e.bytes('Payload') })
    })
  }
  return { PreTickState, TickNumber, Entries }
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
 * are ignored (as Go does), duplicate fields refused. For any input, the only
 * error is `MigrationError('BAD_TRANSFER')` naming the field path.
 */
export function decodeAgentTransfer(input: Uint8Array | string): AgentTransfer {
  const src = toSource(input, CODE, 'AgentTransfer')
  const root = new FieldReader(src, CODE, 'AgentTransfer', parseJson(src, CODE, 'AgentTransfer'), TRANSFER_FIELDS)
  const p = new FieldReader(src, CODE, 'AgentTransfer.Package', root.required('Package'), PACKAGE_FIELDS)
  const pkg: AgentPackage = {
    AgentID: p.string('AgentID', { nonEmpty: true }),
    WASMBinary: p.bytes('WASMBinary'),
    WASMHash: p.bytes('WASMHash'),
    Checkpoint: p.bytes('Checkpoint'),
    ManifestData: p.bytes('ManifestData'),
    Budget: p.nonNegativeI64('Budget'),
    PricePerSecond: p.nonNegativeI64('PricePerSecond'),
    MajorVersion: p.u64('MajorVersion', { optional: true }),
    LeaseGeneration: p.u64('LeaseGeneration', { optional: true })
  }
  const replay = readReplay(src, p)
  if (replay !== undefined) pkg.ReplayData = replay
  const receipts = p.raw('Receipts')
  if (receipts !== undefined) pkg.Receipts = receipts
  const identity = p.optional('AgentIdentity') === undefined ? undefined : p.bytes('AgentIdentity')
  // The reference treats an empty identity as none (`len(pkg.AgentIdentity) == 0`).
  if (identity !== undefined && identity.length > 0) pkg.AgentIdentity = identity
  return { Package: pkg, SourceNodeID: root.string('SourceNodeID') }
}

/** Normalises decoder input; anything that is not bytes or text is refused with the decoder's code. */
export function toSource(input: unknown, code: 'BAD_TRANSFER' | 'BAD_REPLY', what: string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8')
  if (input instanceof Uint8Array) return asBuffer(input)
  throw new MigrationError(code, `${what}: expected bytes or a string, got ${input === null ? 'null' : typeof input}`)
}
