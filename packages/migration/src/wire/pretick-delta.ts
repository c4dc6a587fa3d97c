// SPEC §7 `/igor/migrate/2.0.0` (ours, issue 21 item 1): `ReplayData.PreTickState` sent as the bytes
// that differ from the checkpoint's state, so the state does not travel twice.
import { CheckpointError, readCheckpointHeader } from '@igor/checkpoint-codec'
import { MigrationError } from '../errors.js'

/**
 * The `PreTickState` section when the header says `"PreTickStateEncoding":
 * "delta"` (the migration README, "2.0.0 wire"): the pre-tick state is the
 * `Checkpoint` section's state (its bytes after the checkpoint header) with
 * runs replaced, each `u32 LE offset ‖ u32 LE length ‖ length bytes`, offsets
 * increasing, no run empty, overlapping the one before, or past the state's
 * end. No run at all: the pre-tick state equals the checkpoint's state (a
 * tick that changed nothing). The pre-tick state has the state's length; a
 * tick that changed the length sends the state raw.
 */
export const PRETICK_DELTA = 'delta'
export const PRETICK_RAW = 'raw'

const RUN_HEADER = 8
/** Unchanged bytes shorter than this between two changed ones are sent inside one run (a run header costs 8). */
const MERGE_GAP = 16
/** Blocks compared natively (a call costs microseconds: few large ones), then smaller ones inside, then bytes. */
const BLOCK = 256 * 1024
const SUB_BLOCK = 4096

/** The checkpoint's state (a view), or null when the bytes are not a checkpoint. */
export function checkpointState(checkpoint: Uint8Array): Uint8Array | null {
  try {
    return checkpoint.subarray(readCheckpointHeader(checkpoint).headerLength)
  } catch (error) {
    if (error instanceof CheckpointError) return null
    throw error
  }
}

/**
 * The delta of `preTick` against `base` (the checkpoint's state), one buffer
 * of at most half `preTick`'s size, or null when the lengths differ or the
 * delta would be larger than that.
 */
export function encodePreTickDelta(base: Uint8Array, preTick: Uint8Array): Uint8Array | null {
  if (base.byteLength !== preTick.byteLength) return null
  const a = Buffer.from(base.buffer, base.byteOffset, base.byteLength)
  const b = Buffer.from(preTick.buffer, preTick.byteOffset, preTick.byteLength)
  const runs: Array<[number, number]> = []
  let size = 0
  const limit = preTick.byteLength / 2
  /** Adds the differing bytes of [from, to) as runs; false once the delta is over the limit. */
  const scan = (from: number, to: number): boolean => {
    for (let i = from; i < to; i++) {
      if (a[i] === b[i]) continue
      const last = runs[runs.length - 1]
      if (last !== undefined && i - (last[0] + last[1]) < MERGE_GAP) {
        size += i + 1 - (last[0] + last[1])
        last[1] = i + 1 - last[0]
      } else {
        runs.push([i, 1])
        size += RUN_HEADER + 1
      }
      if (size > limit) return false
    }
    return true
  }
  const same = (from: number, to: number): boolean => a.compare(b, from, to, from, to) === 0
  for (let block = 0; block < b.length; block += BLOCK) {
    const blockEnd = Math.min(block + BLOCK, b.length)
    if (same(block, blockEnd)) continue
    for (let sub = block; sub < blockEnd; sub += SUB_BLOCK) {
      const end = Math.min(sub + SUB_BLOCK, blockEnd)
      if (!same(sub, end) && !scan(sub, end)) return null
    }
  }
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const [offset, length] of runs) {
    view.setUint32(at, offset, true)
    view.setUint32(at + 4, length, true)
    out.set(preTick.subarray(offset, offset + length), at + RUN_HEADER)
    at += RUN_HEADER + length
  }
  return out
}

/**
 * The pre-tick state rebuilt from `checkpoint` (the arrived section) and
 * `delta`: one allocation of the state's size. `reserve(n)` is told the bytes
 * about to be allocated first (the admission's memory ledger). Refuses a
 * checkpoint that does not decode and a malformed delta with `BAD_TRANSFER`
 * and the reason.
 */
export function applyPreTickDelta(checkpoint: Uint8Array, delta: Uint8Array, reserve: (bytes: number) => void): Uint8Array {
  const what = 'AgentTransfer.Package.ReplayData.PreTickState (delta)'
  const base = checkpointState(checkpoint)
  if (base === null) throw new MigrationError('BAD_TRANSFER', `${what}: the Checkpoint section does not decode, nothing to apply it to`)
  reserve(base.byteLength)
  const out = new Uint8Array(Buffer.allocUnsafeSlow(base.byteLength).buffer, 0, base.byteLength)
  out.set(base)
  const view = new DataView(delta.buffer, delta.byteOffset, delta.byteLength)
  let at = 0
  let end = 0
  while (at < delta.byteLength) {
    if (delta.byteLength - at < RUN_HEADER) throw new MigrationError('BAD_TRANSFER', `${what}: a run header cut short at byte ${at}`)
    const offset = view.getUint32(at, true)
    const length = view.getUint32(at + 4, true)
    at += RUN_HEADER
    if (length === 0) throw new MigrationError('BAD_TRANSFER', `${what}: an empty run at offset ${offset}`)
    if (offset < end) throw new MigrationError('BAD_TRANSFER', `${what}: a run at offset ${offset} overlaps or precedes the one before (ending at ${end})`)
    if (offset + length > base.byteLength) throw new MigrationError('BAD_TRANSFER', `${what}: a run of ${length} bytes at offset ${offset} runs past the state's ${base.byteLength} bytes`)
    if (delta.byteLength - at < length) throw new MigrationError('BAD_TRANSFER', `${what}: a run of ${length} bytes at offset ${offset} cut short`)
    out.set(delta.subarray(at, at + length), offset)
    at += length
    end = offset + length
  }
  return out
}
