import { MigrationError } from '../errors.js'
import { EncodeChecks } from './encode-checks.js'
import { FieldReader } from './fields.js'
import { asBuffer, parseJson } from './json-parse.js'
import { JsonOutput, goQuote } from './json-write.js'
import { RawJson } from './raw-json.js'
import type { AgentPackage, AgentTransfer } from './types.js'

const CODE = 'BAD_TRANSFER'
const TRANSFER_FIELDS = ['Package', 'SourceNodeID']
const PACKAGE_FIELDS = ['AgentID', 'WASMBinary', 'WASMHash', 'Checkpoint', 'ManifestData', 'Budget', 'PricePerSecond', 'Receipts', 'MajorVersion', 'LeaseGeneration']

/**
 * `AgentTransfer` → the bytes the source writes (SPEC §7): one JSON object
 * and a newline, as Go's `json.Encoder` writes it — struct field order, byte
 * fields as padded standard base64, 64-bit integers as exact JSON numbers,
 * `MajorVersion`/`LeaseGeneration` omitted when 0, `Receipts` omitted when
 * undefined. Throws `MigrationError('BAD_TRANSFER')` naming the bad field.
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
  const receipts = pkg.Receipts === undefined ? undefined : receiptsJson(pkg.Receipts)
  const major = check.u64(f('MajorVersion'), pkg.MajorVersion)
  const generation = check.u64(f('LeaseGeneration'), pkg.LeaseGeneration)
  const source = check.string('AgentTransfer.SourceNodeID', transfer.SourceNodeID)

  const out = new JsonOutput()
  out.text(`{"Package":{"AgentID":${goQuote(agentId)},"WASMBinary":`).base64(wasm)
  out.text(',"WASMHash":').base64(hash)
  out.text(',"Checkpoint":').base64(checkpoint)
  out.text(',"ManifestData":').base64(manifest)
  out.text(`,"Budget":${budget},"PricePerSecond":${price}`)
  if (receipts !== undefined) out.text(`,"Receipts":${receipts}`)
  if (major !== 0n) out.text(`,"MajorVersion":${major}`)
  if (generation !== 0n) out.text(`,"LeaseGeneration":${generation}`)
  out.text(`},"SourceNodeID":${goQuote(source)}}\n`)
  return out.toBytes()
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
  const receipts = p.raw('Receipts')
  if (receipts !== undefined) pkg.Receipts = receipts
  return { Package: pkg, SourceNodeID: root.string('SourceNodeID') }
}

/** Normalises decoder input; anything that is not bytes or text is refused with the decoder's code. */
export function toSource(input: unknown, code: 'BAD_TRANSFER' | 'BAD_REPLY', what: string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8')
  if (input instanceof Uint8Array) return asBuffer(input)
  throw new MigrationError(code, `${what}: expected bytes or a string, got ${input === null ? 'null' : typeof input}`)
}
