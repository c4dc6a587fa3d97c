// SPEC §7 `/igor/migrate/2.0.0`: the binary hand-off's layout, shared by its encoder and its reader.

/**
 * The byte sections that follow the header, in this fixed order, each as a
 * `u32 LE` length and then the raw bytes (the migration README, "2.0.0 wire").
 * Every one is always written; an empty `PreTickState` (no `ReplayData`) or
 * `AgentIdentity` (none) has length 0.
 */
export const SECTION_ORDER = ['WASMBinary', 'Checkpoint', 'PreTickState', 'AgentIdentity'] as const
export type SectionName = typeof SECTION_ORDER[number]

/** The section lengths the header declares (`"Sections": {…}`), each 0 … 2^32-1. */
export type SectionSizes = Record<SectionName, number>

/** Largest u32 (a length prefix). */
export const U32_MAX = 0xffff_ffff

/**
 * Largest header a target reads (before it reads any of it): everything in
 * it is bounded by a per-field limit — `Receipts` 48 MiB of JSON, replay
 * entries 16 MiB of payload (22 MiB as base64, plus ≤ 100 000 entries of
 * ~32 bytes of JSON each), a manifest 1 MiB (1.4 MiB base64) — so 80 MiB
 * covers every honest header; the transfer's byte cap applies as well.
 */
export const MAX_HEADER_BYTES = 80 * 1024 * 1024

/** Bytes of the length prefixes: the header's and one per section. */
export const PREFIX_BYTES = 4 * (1 + SECTION_ORDER.length)

export function u32le(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value, true)
  return out
}
