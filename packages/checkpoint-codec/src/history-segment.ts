// SPEC §12 "History and `igord verify`" (ours, issue 21 item 2): the bytes of
// one history segment file, `seg-<tick %010d>.hist`, that holds many archived
// checkpoints of one agent instead of one `<tick>.ckpt` file each.
// Portable (no node: imports): the browser verifier reads segments too.
//
//   header  : "IGORHSEG" (8) ‖ u32 LE version = 1 ‖ u32 LE 0 ‖ u64 LE createdAtMs
//   record* : u32 LE length ‖ u32 LE crc32(length bytes ‖ payload) ‖ payload (a whole checkpoint)
//
// A record whose length runs past the end, or whose checksum does not match,
// when it is the LAST thing in the file, is a torn tail (a crash mid-append):
// it is not a record. Anything wrong before the last record is corruption.

export const SEGMENT_MAGIC = 'IGORHSEG'
export const SEGMENT_VERSION = 1
export const SEGMENT_HEADER_LENGTH = 24
export const RECORD_HEADER_LENGTH = 8
/** A record larger than this is refused (checkpoints are bounded by the 64 MiB memory limit plus the header). */
export const MAX_RECORD_LENGTH = 128 * 1024 * 1024

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (IEEE 802.3, as zlib's), continuing from `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** The 24-byte header of a new segment. */
export function encodeSegmentHeader(createdAtMs: number): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_LENGTH)
  for (let i = 0; i < 8; i++) out[i] = SEGMENT_MAGIC.charCodeAt(i)
  const view = new DataView(out.buffer)
  view.setUint32(8, SEGMENT_VERSION, true)
  view.setBigUint64(16, BigInt(Math.max(0, Math.floor(createdAtMs))), true)
  return out
}

/** The record header (length and checksum) to write before `payload`. */
export function encodeRecordHeader(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_RECORD_LENGTH) throw new RangeError(`history record of ${payload.length} bytes is over ${MAX_RECORD_LENGTH}`)
  const out = new Uint8Array(RECORD_HEADER_LENGTH)
  const view = new DataView(out.buffer)
  view.setUint32(0, payload.length, true)
  view.setUint32(4, crc32(payload, crc32(out.subarray(0, 4))), true)
  return out
}

/** One whole record: header then payload. */
export function encodeHistoryRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_LENGTH + payload.length)
  out.set(encodeRecordHeader(payload), 0)
  out.set(payload, RECORD_HEADER_LENGTH)
  return out
}

export interface SegmentRecord {
  /** Byte offset of the record header in the file. */
  readonly offset: number
  readonly payload: Uint8Array
}

export interface ParsedSegment {
  /** From the header; null when the header itself is unreadable. */
  readonly createdAtMs: number | null
  readonly records: readonly SegmentRecord[]
  /** Bytes that end in whole records (the size a torn tail is cut back to). */
  readonly validLength: number
  /** A torn last record (crash mid-append): where it starts and why it is not a record. */
  readonly tornTail: { readonly offset: number, readonly reason: string } | null
  /** Corruption before the last record, or a bad header: nothing after `validLength` was read. */
  readonly corrupt: { readonly offset: number, readonly reason: string } | null
}

/** Reads a segment's records; never returns a record whose checksum does not match. */
export function parseHistorySegment(bytes: Uint8Array): ParsedSegment {
  if (bytes.length < SEGMENT_HEADER_LENGTH) {
    // A crash while the header was written: an empty (torn) segment, when the bytes so far are the magic's start.
    const prefix = String.fromCharCode(...bytes.subarray(0, Math.min(8, bytes.length)))
    if (SEGMENT_MAGIC.startsWith(prefix)) return { createdAtMs: null, records: [], validLength: 0, tornTail: { offset: 0, reason: 'segment header cut short' }, corrupt: null }
    return { createdAtMs: null, records: [], validLength: 0, tornTail: null, corrupt: { offset: 0, reason: 'not a history segment (bad magic)' } }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (String.fromCharCode(...bytes.subarray(0, 8)) !== SEGMENT_MAGIC) {
    return { createdAtMs: null, records: [], validLength: 0, tornTail: null, corrupt: { offset: 0, reason: 'not a history segment (bad magic)' } }
  }
  const version = view.getUint32(8, true)
  if (version !== SEGMENT_VERSION) {
    return { createdAtMs: null, records: [], validLength: 0, tornTail: null, corrupt: { offset: 0, reason: `unsupported history segment version ${version}` } }
  }
  const createdAtMs = Number(view.getBigUint64(16, true))
  const records: SegmentRecord[] = []
  let at = SEGMENT_HEADER_LENGTH
  while (at < bytes.length) {
    const problem = recordProblem(bytes, view, at)
    if (problem === null) {
      const length = view.getUint32(at, true)
      records.push({ offset: at, payload: bytes.subarray(at + RECORD_HEADER_LENGTH, at + RECORD_HEADER_LENGTH + length) })
      at += RECORD_HEADER_LENGTH + length
      continue
    }
    // The last record (its declared extent reaches the end of the file, or cannot be read at all): torn.
    const last = problem.end >= bytes.length
    return last
      ? { createdAtMs, records, validLength: at, tornTail: { offset: at, reason: problem.reason }, corrupt: null }
      : { createdAtMs, records, validLength: at, tornTail: null, corrupt: { offset: at, reason: problem.reason } }
  }
  return { createdAtMs, records, validLength: at, tornTail: null, corrupt: null }
}

function recordProblem(bytes: Uint8Array, view: DataView, at: number): { reason: string, end: number } | null {
  if (at + RECORD_HEADER_LENGTH > bytes.length) return { reason: 'record header cut short', end: bytes.length }
  const length = view.getUint32(at, true)
  const end = at + RECORD_HEADER_LENGTH + length
  if (length > MAX_RECORD_LENGTH) return { reason: `record length ${length} is over ${MAX_RECORD_LENGTH}`, end: Math.max(end, bytes.length) }
  if (end > bytes.length) return { reason: `record of ${length} bytes cut short at ${bytes.length - at - RECORD_HEADER_LENGTH}`, end }
  const expected = view.getUint32(at + 4, true)
  const actual = crc32(bytes.subarray(at + RECORD_HEADER_LENGTH, end), crc32(bytes.subarray(at, at + 4)))
  if (expected !== actual) return { reason: `checksum mismatch (${hex32(expected)} stored, ${hex32(actual)} computed)`, end }
  return null
}

const hex32 = (n: number): string => n.toString(16).padStart(8, '0')

/** `seg-<tick %010d>.hist` for a segment whose first record is at `tick`. */
export function segmentFileName(tick: bigint): string {
  return `seg-${tick.toString().padStart(10, '0')}.hist`
}

/** The tick a segment file name carries, or null when the name is not one. */
export function segmentTickOf(name: string): bigint | null {
  const match = /^seg-(\d{10,20})\.hist$/.exec(name)
  return match === null ? null : BigInt(match[1]!)
}

/** The pruning marker beside the segments (see the runner README): `pruned.json`. */
export const PRUNED_MARKER = 'pruned.json'

/** The marker's content: history before `anchorTick` was deleted on purpose (retention or quota). */
export interface PrunedMarker {
  readonly anchorTick: bigint
}

export function encodePrunedMarker(marker: PrunedMarker, prunedAtMs: number): string {
  return `${JSON.stringify({ version: 1, anchorTick: marker.anchorTick.toString(), prunedAt: new Date(prunedAtMs).toISOString() })}\n`
}

/** Null when the text is not a marker. */
export function decodePrunedMarker(text: string): PrunedMarker | null {
  try {
    const value = JSON.parse(text) as { version?: unknown, anchorTick?: unknown }
    if (value.version !== 1 || typeof value.anchorTick !== 'string' || !/^\d{1,20}$/.test(value.anchorTick)) return null
    const anchorTick = BigInt(value.anchorTick)
    return anchorTick <= 0xffffffffffffffffn ? { anchorTick } : null
  } catch {
    return null
  }
}
