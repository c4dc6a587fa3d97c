// SPEC §7 `/igor/migrate/2.0.0`: an `AgentTransfer` as the parts the source writes, no byte copied.
import { MigrationError } from '../errors.js'
import { checkTransfer, writeReplayEntries } from './agent-transfer.js'
import { SECTION_ORDER, U32_MAX, u32le } from './binary-layout.js'
import type { SectionSizes } from './binary-layout.js'
import { JsonOutput, goQuote } from './json-write.js'
import { PRETICK_DELTA, checkpointState, encodePreTickDelta } from './pretick-delta.js'
import type { AgentTransfer } from './types.js'

/**
 * `AgentTransfer` → the parts of one `/igor/migrate/2.0.0` message, in order:
 * `u32 LE` header length, the header (UTF-8 JSON: the §7 `Package` fields
 * except the four sections, in §7 order, `SourceNodeID`, and `Sections` with
 * each section's length, and `"PreTickStateEncoding":"delta"` when the
 * pre-tick state is sent as its difference from the checkpoint's state,
 * `pretick-delta.ts`), then per section (`SECTION_ORDER`) its `u32 LE`
 * length and the bytes themselves — the caller's buffers, not copies (write
 * them with `writeMessage(stream, parts)`). The same checks as
 * `encodeAgentTransfer` (`BAD_TRANSFER` naming the field), and a section over
 * 2^32-1 bytes is refused.
 */
export function encodeBinaryTransfer(transfer: AgentTransfer): Uint8Array[] {
  const t = checkTransfer(transfer)
  const identity = t.identity ?? new Uint8Array(0)
  // The pre-tick state as the bytes that differ from the checkpoint's state, when that is at most half of it.
  const base = t.replay === undefined ? null : checkpointState(t.checkpoint)
  const delta = base === null || t.replay === undefined ? null : encodePreTickDelta(base, t.replay.PreTickState)
  const sections: Record<keyof SectionSizes, Uint8Array[]> = {
    WASMBinary: [t.wasm],
    Checkpoint: [t.checkpoint],
    PreTickState: [delta ?? t.replay?.PreTickState ?? new Uint8Array(0)],
    AgentIdentity: [identity]
  }
  const sizes = {} as SectionSizes
  for (const name of SECTION_ORDER) {
    sizes[name] = partsLength(sections[name])
    if (sizes[name] > U32_MAX) throw new MigrationError('BAD_TRANSFER', `AgentTransfer.Package.${name}: ${sizes[name]} bytes, more than a 2.0.0 section holds (2^32-1)`)
  }
  const out = new JsonOutput()
  out.text(`{"Package":{"AgentID":${goQuote(t.agentId)},"WASMHash":`).base64(t.hash)
  out.text(',"ManifestData":').base64(t.manifest)
  out.text(`,"Budget":${t.budget},"PricePerSecond":${t.price}`)
  if (t.replay !== undefined) {
    out.text(`,"ReplayData":{"TickNumber":${t.replay.TickNumber},`)
    writeReplayEntries(out, t.replay)
    out.text('}')
  }
  if (t.receipts !== undefined) out.text(`,"Receipts":${t.receipts}`)
  // SPEC §15 wallet_pay (ours): in the header, after Receipts, as in 1.0.0 (small: not a section).
  if (t.payments !== undefined && t.payments.length > 0) out.text(',"Payments":').base64(t.payments)
  if (t.major !== 0n) out.text(`,"MajorVersion":${t.major}`)
  if (t.generation !== 0n) out.text(`,"LeaseGeneration":${t.generation}`)
  out.text(`},"SourceNodeID":${goQuote(t.source)},"Sections":{`)
  out.text(SECTION_ORDER.map((name) => `"${name}":${sizes[name]}`).join(','))
  out.text(delta === null ? '}}' : `},"PreTickStateEncoding":"${PRETICK_DELTA}"}`)
  const header = out.toBytes()
  if (header.byteLength > U32_MAX) throw new MigrationError('BAD_TRANSFER', `AgentTransfer: a header of ${header.byteLength} bytes, more than 2^32-1`)
  const parts: Uint8Array[] = [u32le(header.byteLength), header]
  for (const name of SECTION_ORDER) parts.push(u32le(sizes[name]), ...sections[name])
  return parts
}

/** Total bytes of a message's parts. */
export function partsLength(parts: readonly Uint8Array[]): number {
  let total = 0
  for (const part of parts) total += part.byteLength
  return total
}
