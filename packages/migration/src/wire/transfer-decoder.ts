import { MigrationError } from '../errors.js'
import { Base64Sink, decodeBase64Whole } from './base64-sink.js'
import { ENTRY_OVERHEAD_BYTES } from './decode-limits.js'
import type { DecodeLimits, MemoryLedger } from './decode-limits.js'
import type { Pull, PullJson, Recording } from './pull-json.js'
import { RawJson } from './raw-json.js'
import type { AgentPackage, AgentTransfer, ReplayData, ReplayEntry } from './types.js'
import { SECTION_ORDER, U32_MAX } from './binary-layout.js'
import type { SectionName, SectionSizes } from './binary-layout.js'
import { PRETICK_DELTA, PRETICK_RAW } from './pretick-delta.js'

/**
 * `AgentTransfer` read field by field from a `PullJson` (SPEC §7, and "What a
 * peer can and cannot do"): only the §7 fields are built, each under its
 * limit; unknown members are validated and skipped unbuilt; duplicate known
 * fields are refused. Decoded bytes are charged to `ledger` as they are made.
 */
export interface DecodeHooks {
  /** Told the agent id as soon as it is read, before the rest is decoded; may throw to refuse at the door. */
  readonly onAgentId?: (agentId: string) => void
}

const ROOT = 'AgentTransfer'
const PKG = 'AgentTransfer.Package'
const REPLAY = 'AgentTransfer.Package.ReplayData'
const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/
const QUOTE = 0x22
const EMPTY = new Uint8Array(0)
const BACKSLASH = 0x5c

type Ctx = { p: PullJson, limits: DecodeLimits, ledger: MemoryLedger | null, hooks: DecodeHooks, binary: BinaryHeader | null }

/**
 * SPEC §7 `/igor/migrate/2.0.0`: the header is read by this same decoder. The
 * four section fields must not appear in it (they are the sections), the
 * root's `Sections` is required and lands here; the caller fills the fields.
 */
export interface BinaryHeader {
  sections?: SectionSizes
  /** `"PreTickStateEncoding"`: `delta` when the PreTickState section is a delta against the checkpoint's state (`pretick-delta.ts`). */
  preTickDelta?: boolean
}

const SECTION_FIELDS: ReadonlySet<string> = new Set(['WASMBinary', 'Checkpoint', 'AgentIdentity'])

export function * readAgentTransfer (p: PullJson, limits: DecodeLimits, ledger: MemoryLedger | null, hooks: DecodeHooks = {}, binary: BinaryHeader | null = null): Pull<AgentTransfer> {
  const ctx: Ctx = { p, limits, ledger, hooks, binary }
  let pkg: AgentPackage | undefined
  let source: string | undefined
  yield * members(ctx, ROOT, function * (key, seen) {
    if (key === 'Package') {
      once(seen, ROOT, key)
      pkg = yield * readPackage(ctx)
    } else if (key === 'SourceNodeID') {
      once(seen, ROOT, key)
      source = yield * readString(ctx, `${ROOT}.SourceNodeID`, limits.maxIdBytes)
    } else if (key === 'Sections' && binary !== null) {
      once(seen, ROOT, key)
      binary.sections = yield * readSections(ctx)
    } else if (key === 'PreTickStateEncoding' && binary !== null) {
      once(seen, ROOT, key)
      const encoding = yield * readString(ctx, `${ROOT}.PreTickStateEncoding`, 16)
      if (encoding !== PRETICK_DELTA && encoding !== PRETICK_RAW) refuse(`${ROOT}.PreTickStateEncoding: ${JSON.stringify(encoding)} is not "${PRETICK_RAW}" or "${PRETICK_DELTA}"`)
      binary.preTickDelta = encoding === PRETICK_DELTA
    } else {
      yield * p.skip(`${ROOT}.${key ?? '…'}`, 1)
    }
  })
  if (pkg === undefined) refuse(`${PKG}: missing`)
  if (source === undefined) refuse(`${ROOT}.SourceNodeID: missing`)
  if (binary !== null && binary.sections === undefined) refuse(`${ROOT}.Sections: missing`)
  return { Package: pkg, SourceNodeID: source }
}

/** `"Sections": {"WASMBinary": n, …}`: every section's length, each a u32. */
function * readSections (ctx: Ctx): Pull<SectionSizes> {
  const path = `${ROOT}.Sections`
  const got: Partial<SectionSizes> = {}
  yield * members(ctx, path, function * (key, seen) {
    if (key !== null && (SECTION_ORDER as readonly string[]).includes(key)) {
      once(seen, path, key)
      got[key as SectionName] = Number(yield * readInteger(ctx, `${path}.${key}`, BigInt(U32_MAX), 'a uint32 (0 … 2^32-1)'))
    } else {
      yield * ctx.p.skip(`${path}.${key ?? '…'}`, 2)
    }
  })
  for (const name of SECTION_ORDER) if (got[name] === undefined) refuse(`${path}.${name}: missing`)
  return got as SectionSizes
}

function inHeader(path: string): never {
  return refuse(`${path}: not allowed in a 2.0.0 header (it is a byte section)`)
}

const PACKAGE_REQUIRED = ['AgentID', 'WASMBinary', 'WASMHash', 'Checkpoint', 'ManifestData', 'Budget', 'PricePerSecond'] as const

function * readPackage (ctx: Ctx): Pull<AgentPackage> {
  const { p, limits } = ctx
  const got: Partial<AgentPackage> = {}
  let identity: Uint8Array | undefined
  let payments: Uint8Array | undefined
  yield * members(ctx, PKG, function * (key, seen) {
    const path = `${PKG}.${key ?? '…'}`
    if (ctx.binary !== null && key !== null && SECTION_FIELDS.has(key)) inHeader(path)
    switch (key) {
      case 'AgentID': {
        once(seen, PKG, key)
        const id = yield * readString(ctx, path, limits.maxIdBytes)
        if (id === '') refuse(`${path}: must not be empty`)
        got.AgentID = id
        ctx.hooks.onAgentId?.(id)
        return
      }
      case 'WASMBinary': once(seen, PKG, key); got.WASMBinary = yield * readBytes(ctx, path, Number.MAX_SAFE_INTEGER); return
      case 'WASMHash': once(seen, PKG, key); got.WASMHash = yield * readBytes(ctx, path, limits.maxHashBytes); return
      case 'Checkpoint': once(seen, PKG, key); got.Checkpoint = yield * readBytes(ctx, path, Number.MAX_SAFE_INTEGER); return
      case 'ManifestData': once(seen, PKG, key); got.ManifestData = yield * readBytes(ctx, path, limits.maxManifestBytes); return
      case 'Budget': once(seen, PKG, key); got.Budget = yield * readInteger(ctx, path, I64_MAX, 'a non-negative int64 (0 … 2^63-1)'); return
      case 'PricePerSecond': once(seen, PKG, key); got.PricePerSecond = yield * readInteger(ctx, path, I64_MAX, 'a non-negative int64 (0 … 2^63-1)'); return
      case 'MajorVersion': once(seen, PKG, key); got.MajorVersion = yield * readInteger(ctx, path, U64_MAX, 'a uint64 (0 … 2^64-1)'); return
      case 'LeaseGeneration': once(seen, PKG, key); got.LeaseGeneration = yield * readInteger(ctx, path, U64_MAX, 'a uint64 (0 … 2^64-1)'); return
      case 'ReplayData': {
        once(seen, PKG, key)
        const replay = yield * readReplay(ctx)
        if (replay !== undefined) got.ReplayData = replay
        return
      }
      case 'Receipts': once(seen, PKG, key); got.Receipts = yield * readReceipts(ctx, path); return
      case 'Payments': once(seen, PKG, key); payments = yield * readBytes(ctx, path, limits.maxPaymentsBytes); return
      case 'AgentIdentity': once(seen, PKG, key); identity = yield * readBytes(ctx, path, limits.maxIdentityBytes); return
      default: yield * p.skip(path, 2)
    }
  })
  // 2.0.0: the binary and the checkpoint are sections, filled in by the caller.
  if (ctx.binary !== null) got.WASMBinary = got.Checkpoint = EMPTY
  for (const name of PACKAGE_REQUIRED) if (got[name] === undefined) refuse(`${PKG}.${name}: missing`)
  const pkg: AgentPackage = {
    AgentID: got.AgentID as string,
    WASMBinary: got.WASMBinary as Uint8Array,
    WASMHash: got.WASMHash as Uint8Array,
    Checkpoint: got.Checkpoint as Uint8Array,
    ManifestData: got.ManifestData as Uint8Array,
    Budget: got.Budget as bigint,
    PricePerSecond: got.PricePerSecond as bigint,
    MajorVersion: got.MajorVersion ?? 0n,
    LeaseGeneration: got.LeaseGeneration ?? 0n
  }
  if (got.ReplayData !== undefined) pkg.ReplayData = got.ReplayData
  if (got.Receipts !== undefined) pkg.Receipts = got.Receipts
  if (payments !== undefined && payments.length > 0) pkg.Payments = payments
  // The reference treats an empty identity as none (`len(pkg.AgentIdentity) == 0`).
  if (identity !== undefined && identity.length > 0) pkg.AgentIdentity = identity
  return pkg
}

function * readReplay (ctx: Ctx): Pull<ReplayData | undefined> {
  const { p } = ctx
  if ((yield * p.peekValue(REPLAY)) === 0x6e) {
    yield * p.literal(REPLAY)
    return undefined
  }
  let preTickState: Uint8Array | undefined
  let tickNumber: bigint | undefined
  const entries: ReplayEntry[] = []
  yield * members(ctx, REPLAY, function * (key, seen) {
    const path = `${REPLAY}.${key ?? '…'}`
    if (key === 'PreTickState') {
      if (ctx.binary !== null) inHeader(path)
      once(seen, REPLAY, key)
      preTickState = yield * readBytes(ctx, path, Number.MAX_SAFE_INTEGER)
    } else if (key === 'TickNumber') {
      once(seen, REPLAY, key)
      tickNumber = yield * readInteger(ctx, path, U64_MAX, 'a uint64 (0 … 2^64-1)')
    } else if (key === 'Entries') {
      once(seen, REPLAY, key)
      yield * readEntries(ctx, entries)
    } else {
      yield * p.skip(path, 3)
    }
  })
  if (ctx.binary !== null) preTickState = EMPTY // 2.0.0: a section
  if (preTickState === undefined) refuse(`${REPLAY}.PreTickState: missing`)
  if (tickNumber === undefined) refuse(`${REPLAY}.TickNumber: missing`)
  return { PreTickState: preTickState, TickNumber: tickNumber, Entries: entries }
}

function * readEntries (ctx: Ctx, entries: ReplayEntry[]): Pull<void> {
  const { p, limits } = ctx
  const path = `${REPLAY}.Entries`
  const c = yield * p.peekValue(path)
  if (c === 0x6e) {
    yield * p.literal(path)
    return
  }
  if (c !== 0x5b) yield * wrongType(ctx, path, 'an array')
  p.take()
  let logBytes = 0
  if ((yield * p.peekValue(path)) === 0x5d) {
    p.take()
    return
  }
  for (;;) {
    const index = entries.length
    if (index >= limits.maxReplayEntries) tooLarge(`${path}: more than ${limits.maxReplayEntries} entries`)
    const entryPath = `${path}[${index}]`
    ctx.ledger?.take(ENTRY_OVERHEAD_BYTES)
    if (p.peekHere() === 0x7b) {
      const fast = entryHere(ctx, entryPath, limits.maxReplayLogBytes)
      if (fast !== null) {
        logBytes += 6 + fast.Payload.byteLength
        if (logBytes > limits.maxReplayLogBytes) tooLarge(`${path}: more than ${limits.maxReplayLogBytes} bytes of observations`)
        entries.push(fast)
        let after = p.peekHere()
        if (after < 0) after = yield * p.peekValue(path)
        p.take()
        if (after === 0x5d) return
        if (after !== 0x2c) p.fail(path, "expected ',' or ']'", p.offset - 1)
        continue
      }
    }
    let id: bigint | undefined
    let payload: Uint8Array | undefined
    yield * members(ctx, entryPath, function * (key, seen) {
      const field = `${entryPath}.${key ?? '…'}`
      if (key === 'HostcallID') {
        once(seen, entryPath, key)
        id = yield * readInteger(ctx, field, 0xffffn, 'a uint16 (0 … 65535)')
      } else if (key === 'Payload') {
        once(seen, entryPath, key)
        payload = yield * readBytes(ctx, field, limits.maxReplayLogBytes)
      } else {
        yield * p.skip(field, 5)
      }
    })
    if (id === undefined) refuse(`${entryPath}.HostcallID: missing`)
    if (payload === undefined) refuse(`${entryPath}.Payload: missing`)
    // The runner's own per-tick cap, in its packed form (6 bytes a header).
    logBytes += 6 + payload.byteLength
    if (logBytes > limits.maxReplayLogBytes) tooLarge(`${path}: more than ${limits.maxReplayLogBytes} bytes of observations`)
    entries.push({ HostcallID: Number(id), Payload: payload })
    const next = yield * p.peekValue(path)
    p.take()
    if (next === 0x5d) return
    if (next !== 0x2c) p.fail(path, "expected ',' or ']'", p.offset - 1)
  }
}

function * readReceipts (ctx: Ctx, path: string): Pull<RawJson> {
  const { p, limits } = ctx
  const max = limits.maxReceiptsBytes
  const record: Recording = { parts: [], size: 0, max, over: () => tooLarge(`${path}: longer than ${max} bytes`) }
  yield * p.peekValue(path)
  yield * p.skip(path, 2, record)
  ctx.ledger?.take(record.size)
  const text = Buffer.concat(record.parts).toString('utf8')
  // SPEC §13: the blob (base64) starts with a u32 LE count; refused past the limit before anyone decodes it.
  if (text.startsWith('"') && text.length >= 10) {
    const head = Buffer.from(text.slice(1, 9), 'base64')
    if (head.length === 6 && head.readUInt32LE(0) > limits.maxReceipts) tooLarge(`${path}: more than ${limits.maxReceipts} receipts`)
  }
  return RawJson.trusted(text)
}

/** A Go `[]byte` field: padded standard base64, or `null` (nil slice) for empty. */
function * readBytes (ctx: Ctx, path: string, max: number): Pull<Uint8Array> {
  const { p } = ctx
  let c = p.peekHere()
  if (c < 0) c = yield * p.peekValue(path)
  if (c === 0x6e) {
    const word = yield * p.literal(path)
    if (word === 'null') return new Uint8Array(0)
  }
  if (c !== 0x22) yield * wrongType(ctx, path, 'a base64 string')
  const whole = bytesHere(ctx, path, max)
  if (whole !== null) return whole
  const sink = new Base64Sink(
    (reason) => refuse(`${path}: ${reason}`),
    max,
    (limit) => tooLarge(`${path}: longer than ${limit} bytes`),
    ctx.ledger
  )
  yield * p.stringRuns(path, { bytes: (run) => sink.bytes(run), text: (text) => sink.text(text) })
  return sink.finish()
}

/** At a `"`: the field decoded at once when the whole string is in this chunk and unescaped; null otherwise. */
function bytesHere(ctx: Ctx, path: string, max: number): Uint8Array | null {
  const { p } = ctx
  const buf = p.chunk
  const from = p.position + 1
  const quote = buf.indexOf(QUOTE, from)
  if (quote < 0 || buf.subarray(from, quote).indexOf(BACKSLASH) >= 0) return null
  const out = decodeBase64Whole(buf, from, quote, max, (reason) => refuse(`${path}: ${reason}`), (limit) => tooLarge(`${path}: longer than ${limit} bytes`), ctx.ledger)
  p.skipTo(quote + 1)
  return out
}

const ENTRY_HEAD = Buffer.from('{"HostcallID":')
const ENTRY_PAYLOAD = Buffer.from(',"Payload":"')

function startsAt(buf: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > buf.length) return false
  for (let k = 0; k < prefix.length; k++) if (buf[at + k] !== prefix[k]) return false
  return true
}

/**
 * One replay entry in exactly the layout Go and this encoder write
 * (`{"HostcallID":1,"Payload":"…"}`, all in this chunk), read without a
 * generator; null for anything else, which the general path then reads.
 */
function entryHere(ctx: Ctx, entryPath: string, max: number): ReplayEntry | null {
  const { p } = ctx
  const buf = p.chunk
  let i = p.position
  if (!startsAt(buf, i, ENTRY_HEAD)) return null
  i += ENTRY_HEAD.length
  const digits = i
  let id = 0
  while (i < buf.length && i - digits < 6 && (buf[i] as number) >= 0x30 && (buf[i] as number) <= 0x39) id = id * 10 + (buf[i++] as number) - 0x30
  if (i === digits || i - digits > 5 || (i - digits > 1 && buf[digits] === 0x30) || id > 0xffff) return null
  if (!startsAt(buf, i, ENTRY_PAYLOAD)) return null
  const from = i + ENTRY_PAYLOAD.length
  const quote = buf.indexOf(QUOTE, from)
  if (quote < 0 || buf[quote + 1] !== 0x7d || buf.subarray(from, quote).indexOf(BACKSLASH) >= 0) return null
  const payload = decodeBase64Whole(buf, from, quote, max, (reason) => refuse(`${entryPath}.Payload: ${reason}`), (limit) => tooLarge(`${entryPath}.Payload: longer than ${limit} bytes`), ctx.ledger)
  p.skipTo(quote + 2)
  return { HostcallID: id, Payload: payload }
}

function * readString (ctx: Ctx, path: string, max: number): Pull<string> {
  const { p } = ctx
  const c = yield * p.peekValue(path)
  if (c !== 0x22) yield * wrongType(ctx, path, 'a string')
  const value = yield * p.string(path, max)
  if (value === null) tooLarge(`${path}: longer than ${max} bytes`)
  return value
}

function * readInteger (ctx: Ctx, path: string, max: bigint, what: string): Pull<bigint> {
  const { p } = ctx
  const c = yield * p.peekValue(path)
  if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) yield * wrongType(ctx, path, what)
  // 21 characters bound every int64/uint64; longer digit runs are refused before BigInt sees them.
  const text = yield * p.number(path, 21)
  if (text === null) refuse(`${path}: expected ${what}, got a longer number`)
  if (!INTEGER.test(text)) refuse(`${path}: expected ${what}, got ${clip(text)}`)
  const value = BigInt(text)
  if (value < 0n || value > max) refuse(`${path}: expected ${what}, got ${text}`)
  return value
}

/** Refuses a value of the wrong JSON type, naming what it is (reading at most a short number or a literal). */
function * wrongType (ctx: Ctx, path: string, expected: string): Pull<never> {
  const { p } = ctx
  const c = yield * p.peekValue(path)
  let got: string
  if (c === 0x7b) got = 'an object'
  else if (c === 0x5b) got = 'an array'
  else if (c === 0x22) got = 'a string'
  else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) got = `the number ${clip((yield * p.number(path, 25)) ?? '…')}`
  else if (c === 0x74 || c === 0x66 || c === 0x6e) got = yield * p.literal(path)
  else return p.fail(path, `unexpected byte 0x${c.toString(16).padStart(2, '0')}`)
  return refuse(`${path}: expected ${expected}, got ${got}`)
}

/**
 * The members of one object, each handed to `onMember` with its name (`null`
 * for a name longer than `maxKeyBytes`, which no known field has), which must
 * consume the value.
 */
function * members (ctx: Ctx, path: string, onMember: (key: string | null, seen: Set<string>) => Pull<void>): Pull<void> {
  const { p } = ctx
  let c = p.peekHere()
  if (c < 0) c = yield * p.peekValue(path)
  if (c !== 0x7b) yield * wrongType(ctx, path, 'an object')
  p.take()
  const seen = new Set<string>()
  let next = p.peekHere()
  if (next < 0) next = yield * p.peekValue(path)
  if (next === 0x7d) {
    p.take()
    return
  }
  for (;;) {
    if (next !== 0x22) p.fail(path, 'expected a member name')
    const key = yield * p.string(path, ctx.limits.maxKeyBytes)
    let colon = p.peekHere()
    if (colon < 0) colon = yield * p.peekValue(path)
    if (colon !== 0x3a) p.fail(path, "expected ':'")
    p.take()
    yield * onMember(key, seen)
    next = p.peekHere()
    if (next < 0) next = yield * p.peekValue(path)
    p.take()
    if (next === 0x7d) return
    if (next !== 0x2c) p.fail(path, "expected ',' or '}'", p.offset - 1)
    next = p.peekHere()
    if (next < 0) next = yield * p.peekValue(path)
  }
}

/** A known field may appear once: a wire message with two values for one field is ambiguous (Go lets the last win). */
function once(seen: Set<string>, path: string, key: string): void {
  if (seen.has(key)) refuse(`${path}.${key}: duplicate field`)
  seen.add(key)
}

function refuse(message: string): never {
  throw new MigrationError('BAD_TRANSFER', message)
}

function tooLarge(message: string): never {
  throw new MigrationError('TRANSFER_TOO_LARGE', message)
}

function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text
}
