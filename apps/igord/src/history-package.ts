// SPEC §12 "Moving an agent without the network" + "History and `igord verify`"
// (ours, issue 21 item 2): the file `igord export --with-history` writes — the
// export package, unchanged, followed by the agent's retained history — and
// its bounded, all-or-nothing reading. Without the flag an export is the
// package alone (the §7 AgentTransfer JSON), as before.
//
//   "IGOREXPH" (8) ‖ u32 LE version = 1 ‖ u32 LE flags (bit 0: history pruned)
//   ‖ u64 LE anchor tick (0 unless pruned) ‖ u64 LE package length
//   ‖ package (the AgentTransfer JSON an export without history writes)
//   ‖ history: one history segment (`IGORHSEG` header, then one record per
//     retained tick, ascending; the last is the package's checkpoint)
import { decodeCheckpoint, encodeHistoryRecord, encodeSegmentHeader, parseHistorySegment, readCheckpointHeader } from '@igor/checkpoint-codec'
import { verifyHistory } from '@igor/inspector'

export const HISTORY_PACKAGE_MAGIC = 'IGOREXPH'
export const HISTORY_PACKAGE_VERSION = 1
export const HISTORY_PACKAGE_HEADER_LENGTH = 32
const FLAG_PRUNED = 1
/** An imported history over this is refused before it is read (the §11 default disk quota of one agent). */
export const MAX_IMPORTED_HISTORY_BYTES = 1024 * 1024 * 1024

/** The file is not a readable history package: one line, nothing written. */
export class HistoryPackageError extends Error {
  override readonly name = 'HistoryPackageError'
  readonly code = 'HISTORY_INVALID'
}

export interface PackageHistory {
  readonly checkpoints: ReadonlyArray<{ readonly tick: bigint, readonly bytes: Uint8Array }>
  readonly prunedAnchor: bigint | null
}

/** True when `head` (a file's first bytes) starts like a history package. */
export function isHistoryPackage(head: Uint8Array): boolean {
  return head.length >= 8 && String.fromCharCode(...head.subarray(0, 8)) === HISTORY_PACKAGE_MAGIC
}

/** The parts of the file, in order (written with one atomic write). */
export function encodeHistoryPackage(pkg: Uint8Array, history: PackageHistory, nowMs = Date.now()): Uint8Array[] {
  const header = new Uint8Array(HISTORY_PACKAGE_HEADER_LENGTH)
  for (let i = 0; i < 8; i++) header[i] = HISTORY_PACKAGE_MAGIC.charCodeAt(i)
  const view = new DataView(header.buffer)
  view.setUint32(8, HISTORY_PACKAGE_VERSION, true)
  view.setUint32(12, history.prunedAnchor !== null ? FLAG_PRUNED : 0, true)
  view.setBigUint64(16, history.prunedAnchor ?? 0n, true)
  view.setBigUint64(24, BigInt(pkg.byteLength), true)
  return [header, pkg, encodeSegmentHeader(nowMs), ...history.checkpoints.map((c) => encodeHistoryRecord(c.bytes))]
}

/**
 * Splits a history package into the export package's bytes and the history
 * segment's, checking the header and the bounds (`maxPackageBytes` for the
 * package, MAX_IMPORTED_HISTORY_BYTES for the rest) before anything is decoded.
 */
export function splitHistoryPackage(bytes: Uint8Array, maxPackageBytes: number): { pkg: Uint8Array, segment: Uint8Array, prunedAnchor: bigint | null } {
  if (bytes.length < HISTORY_PACKAGE_HEADER_LENGTH || !isHistoryPackage(bytes)) throw new HistoryPackageError('not a history package (bad magic or cut short)')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint32(8, true)
  if (version !== HISTORY_PACKAGE_VERSION) throw new HistoryPackageError(`unsupported history package version ${version}`)
  const flags = view.getUint32(12, true)
  if ((flags & ~FLAG_PRUNED) !== 0) throw new HistoryPackageError(`unknown history package flags 0x${flags.toString(16)}`)
  const anchor = view.getBigUint64(16, true)
  if ((flags & FLAG_PRUNED) === 0 && anchor !== 0n) throw new HistoryPackageError('anchor tick set on a history that is not pruned')
  const length = view.getBigUint64(24, true)
  if (length > BigInt(Math.min(maxPackageBytes, bytes.length - HISTORY_PACKAGE_HEADER_LENGTH))) {
    throw new HistoryPackageError(`package length ${length} is over the ${maxPackageBytes}-byte limit or past the end of the file`)
  }
  const end = HISTORY_PACKAGE_HEADER_LENGTH + Number(length)
  const segment = bytes.subarray(end)
  if (segment.length > MAX_IMPORTED_HISTORY_BYTES) throw new HistoryPackageError(`history of ${segment.length} bytes is over the ${MAX_IMPORTED_HISTORY_BYTES}-byte limit`)
  return { pkg: bytes.subarray(HISTORY_PACKAGE_HEADER_LENGTH, end), segment, prunedAnchor: (flags & FLAG_PRUNED) !== 0 ? anchor : null }
}

/**
 * The history of a split package, checked against the package's own
 * checkpoint: a segment that reads whole (no torn or damaged record), one
 * checkpoint per tick in ascending order, the last being the package's
 * checkpoint byte for byte, and a chain that `igord verify` calls VALID
 * (signatures, one key, links; from the anchor when pruned).
 */
export function checkPackageHistory(segment: Uint8Array, prunedAnchor: bigint | null, packageCheckpoint: Uint8Array): PackageHistory {
  const parsed = parseHistorySegment(segment)
  const damage = parsed.corrupt ?? parsed.tornTail
  if (damage !== null) throw new HistoryPackageError(`history damaged at byte ${damage.offset}: ${damage.reason}`)
  if (parsed.records.length === 0) throw new HistoryPackageError('history holds no checkpoint')
  const checkpoints: Array<{ tick: bigint, bytes: Uint8Array }> = []
  for (const [index, record] of parsed.records.entries()) {
    let tick: bigint
    try {
      tick = readCheckpointHeader(record.payload).tickNumber
    } catch (error) {
      throw new HistoryPackageError(`history record ${index} is not a checkpoint: ${(error as Error).message}`)
    }
    const previous = checkpoints[checkpoints.length - 1]
    if (previous !== undefined && tick <= previous.tick) throw new HistoryPackageError(`history record ${index} is tick ${tick}, not after tick ${previous.tick}`)
    checkpoints.push({ tick, bytes: record.payload })
  }
  return checkHistoryCheckpoints(checkpoints, prunedAnchor, packageCheckpoint)
}

/** The checks on the history's checkpoints themselves (made by the export too, so it never writes a file an import refuses). */
export function checkHistoryCheckpoints(checkpoints: PackageHistory['checkpoints'], prunedAnchor: bigint | null, packageCheckpoint: Uint8Array): PackageHistory {
  const last = checkpoints[checkpoints.length - 1]
  if (last === undefined) throw new HistoryPackageError('history holds no checkpoint')
  if (Buffer.compare(Buffer.from(last.bytes), Buffer.from(packageCheckpoint)) !== 0) {
    throw new HistoryPackageError(`history ends at tick ${last.tick} with another checkpoint than the package's`)
  }
  if (decodeCheckpoint(packageCheckpoint).lineage === null) throw new HistoryPackageError('history of an unsigned (v0x03) checkpoint')
  const result = verifyHistory(checkpoints.map((c, i) => ({ name: `history record ${i} (tick ${c.tick})`, bytes: c.bytes })), { prunedAnchor })
  if (!result.valid) throw new HistoryPackageError(`history does not verify: ${result.errors[0] ?? 'invalid lineage'}`)
  return { checkpoints, prunedAnchor }
}
