// SPEC §7 `/igor/migrate/2.0.0` target step 1 and "What a peer can and cannot do": the binary hand-off
// read as it arrives, under every limit of 1.0.0, each section copied once into a buffer of its size.
import { createHash } from 'node:crypto'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MigrationError } from '../errors.js'
import { MAX_HEADER_BYTES, PREFIX_BYTES, SECTION_ORDER } from './binary-layout.js'
import type { SectionName, SectionSizes } from './binary-layout.js'
import { deadlinePull } from './deadline-pull.js'
import { DEFAULT_DECODE_LIMITS } from './decode-limits.js'
import { applyPreTickDelta } from './pretick-delta.js'
import { PullJson } from './pull-json.js'
import { readAgentTransfer } from './transfer-decoder.js'
import type { BinaryHeader } from './transfer-decoder.js'
import type { ReadTransferOptions, ReadTransferResult } from './transfer-reader.js'
import type { AgentTransfer } from './types.js'

export interface ReadBinaryOptions extends ReadTransferOptions {
  /** Largest header accepted (default `MAX_HEADER_BYTES`, and never more than `maxBytes`). */
  readonly maxHeaderBytes?: number
}

const EMPTY = new Uint8Array(0)

/**
 * Reads one `/igor/migrate/2.0.0` message (the migration README, "2.0.0
 * wire"): the header's length is checked before a byte of it is read, the
 * header is decoded as it arrives by the 1.0.0 reader (same per-field limits,
 * unknown keys skipped unbuilt, hooks, ledger), then the declared section
 * sizes are checked against the limits — identity size, total bytes, the
 * memory ledger (charged at once, before any section is allocated) — and
 * every section's own length prefix must equal what the header declared.
 * Each section is allocated once at its size and filled as chunks arrive;
 * the checkpoint is hashed (SHA-256, its SPEC §12 content hash) piece by
 * piece as it arrives and the hash returned, so the target does not make a
 * second pass over it. Stops after the last section (anything after it is
 * dropped).
 *
 * Refusals, all `MigrationError`, the codes of `readAgentTransferFrom`:
 * `TRANSFER_TOO_LARGE` (header or total over its cap, a field or section
 * over its limit, the per-admission ceiling), `TARGET_BUSY` (the node's),
 * `BAD_TRANSFER` (header JSON, a section field inside it, a length that
 * disagrees), `TRANSFER_EMPTY`, `TRANSFER_TRUNCATED`, `TRANSFER_TIMEOUT`,
 * `TRANSFER_ABORTED`, `STREAM_FAILED`.
 */
export async function readBinaryTransferFrom(
  source: AsyncIterable<Uint8ArrayList | Uint8Array>,
  options: ReadBinaryOptions
): Promise<ReadTransferResult> {
  const { maxBytes, timeoutMs, signal } = options
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`)
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`)
  if (signal?.aborted === true) throw new MigrationError('TRANSFER_ABORTED', 'read: aborted before start')
  const limits = options.limits ?? DEFAULT_DECODE_LIMITS
  const maxHeader = Math.min(options.maxHeaderBytes ?? MAX_HEADER_BYTES, maxBytes)

  let total = 0
  const chunks = deadlinePull(source, timeoutMs, signal, () => total)
  const input = new ByteInput(chunks.next, () => total, (n) => { total += n })
  const header: BinaryHeader = {}
  const p = new PullJson('BAD_TRANSFER', 'AgentTransfer', false)
  const decoder = readAgentTransfer(p, limits, options.ledger ?? null, options.hooks ?? {}, header)
  try {
    const headerLength = await input.u32('the header length')
    if (headerLength === 0) throw new MigrationError('BAD_TRANSFER', 'AgentTransfer: empty 2.0.0 header')
    if (headerLength > maxHeader) throw new MigrationError('TRANSFER_TOO_LARGE', `read: a 2.0.0 header of ${headerLength} bytes exceeds ${maxHeader}`)
    let step = decoder.next()
    let trailing: ReturnType<PullJson['finish']> | null = null
    await input.take(headerLength, 'the header', (piece) => {
      if (trailing !== null) {
        trailing.next(piece)
        return
      }
      step = decoder.next(piece)
      if (step.done === true) {
        // The header object ended: only whitespace may follow it within the declared length.
        trailing = p.finish('AgentTransfer')
        trailing.next()
      }
    })
    if (step.done !== true) step = decoder.next(null)
    if (step.done !== true) throw new MigrationError('BAD_TRANSFER', 'AgentTransfer: the header reader did not finish')
    if (trailing === null) {
      trailing = p.finish('AgentTransfer')
      trailing.next()
    }
    trailing.next(null)
    const transfer = step.value
    const sizes = header.sections as SectionSizes
    const delta = header.preTickDelta === true
    checkDeclared(transfer, sizes, headerLength, maxBytes, limits.maxIdentityBytes, delta)
    // The per-admission and node ceilings, counted before anything is allocated.
    options.ledger?.take(SECTION_ORDER.reduce((sum, name) => sum + sizes[name], 0))
    const got = {} as Record<SectionName, Uint8Array>
    let checkpointHash: Uint8Array | undefined
    for (const name of SECTION_ORDER) {
      const length = await input.u32(`the ${name} section's length`)
      if (length !== sizes[name]) throw new MigrationError('BAD_TRANSFER', `AgentTransfer.Package.${name}: section of ${length} bytes, the header declared ${sizes[name]}`)
      const hash = name === 'Checkpoint' ? createHash('sha256') : null
      got[name] = await input.section(length, `the ${name} section`, hash === null ? undefined : (piece) => hash.update(piece))
      if (hash !== null) checkpointHash = new Uint8Array(hash.digest())
    }
    const pkg = transfer.Package
    pkg.WASMBinary = got.WASMBinary
    pkg.Checkpoint = got.Checkpoint
    if (pkg.ReplayData !== undefined) {
      // The pre-tick state rebuilt from the checkpoint's state; its size is charged to the ledger first.
      pkg.ReplayData.PreTickState = delta ? applyPreTickDelta(got.Checkpoint, got.PreTickState, (n) => options.ledger?.take(n)) : got.PreTickState
    }
    // The reference treats an empty identity as none.
    if (got.AgentIdentity.byteLength > 0) pkg.AgentIdentity = got.AgentIdentity
    return checkpointHash === undefined ? { transfer, bytes: total } : { transfer, bytes: total, checkpointHash }
  } finally {
    decoder.return(undefined as never)
    chunks.close()
  }
}

/** The declared sizes against the limits, before any section is read. */
function checkDeclared(transfer: AgentTransfer, sizes: SectionSizes, headerLength: number, maxBytes: number, maxIdentity: number, delta: boolean): void {
  if (sizes.AgentIdentity > maxIdentity) throw new MigrationError('TRANSFER_TOO_LARGE', `AgentTransfer.Package.AgentIdentity: longer than ${maxIdentity} bytes`)
  if (transfer.Package.ReplayData === undefined && (sizes.PreTickState > 0 || delta)) {
    throw new MigrationError('BAD_TRANSFER', 'AgentTransfer.Package.ReplayData.PreTickState: a section of bytes (or a delta) without ReplayData in the header')
  }
  const whole = PREFIX_BYTES + headerLength + SECTION_ORDER.reduce((sum, name) => sum + sizes[name], 0)
  if (whole > maxBytes) throw new MigrationError('TRANSFER_TOO_LARGE', `read: message of ${whole} bytes (declared) exceeds ${maxBytes} bytes`)
}

/**
 * Bytes pulled from a stream in exact amounts: `take` hands over pieces
 * (subarrays of the chunks, no copy), `section` copies them once into a
 * buffer of the section's size. The end of the stream where bytes are needed
 * is `TRANSFER_EMPTY` before the first byte, `TRANSFER_TRUNCATED` after.
 */
class ByteInput {
  private queue: Uint8Array[] = []
  private head: Uint8Array = EMPTY
  private at = 0

  constructor(
    private readonly next: () => Promise<IteratorResult<Uint8ArrayList | Uint8Array>>,
    private readonly received: () => number,
    private readonly consumed: (n: number) => void
  ) {}

  private async fill(what: string): Promise<void> {
    while (this.at >= this.head.length) {
      const queued = this.queue.shift()
      if (queued !== undefined) {
        this.head = queued
        this.at = 0
        continue
      }
      const result = await this.next()
      if (result.done === true) {
        if (this.received() === 0) throw new MigrationError('TRANSFER_EMPTY', 'read: stream ended before a message arrived')
        throw new MigrationError('TRANSFER_TRUNCATED', `read: stream ended in ${what} after ${this.received()} bytes`)
      }
      const value = result.value
      if (value instanceof Uint8Array) this.queue.push(value)
      else for (const buf of value) this.queue.push(buf)
    }
  }

  async take(length: number, what: string, onPiece: (piece: Uint8Array) => void): Promise<void> {
    let left = length
    while (left > 0) {
      await this.fill(what)
      const n = Math.min(left, this.head.length - this.at)
      const piece = this.head.subarray(this.at, this.at + n)
      this.at += n
      left -= n
      this.consumed(n)
      onPiece(piece)
    }
  }

  async u32(what: string): Promise<number> {
    const out = new Uint8Array(4)
    let at = 0
    await this.take(4, what, (piece) => {
      out.set(piece, at)
      at += piece.length
    })
    return new DataView(out.buffer).getUint32(0, true)
  }

  async section(length: number, what: string, onPiece?: (piece: Uint8Array) => void): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0)
    const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length)
    let at = 0
    await this.take(length, what, (piece) => {
      out.set(piece, at)
      at += piece.length
      onPiece?.(piece)
    })
    return out
  }
}
