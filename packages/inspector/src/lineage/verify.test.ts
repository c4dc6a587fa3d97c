import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  GENESIS_PREV_HASH, PRUNED_MARKER, checkpointContentHash, encodeCheckpoint, encodeHistoryRecord, encodePrunedMarker, encodeSegmentHeader,
  encodeSignedCheckpoint, segmentFileName
} from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import type { HistoryFile } from '../index.js'
import { HistoryError, mergeHistories, renderLineageReport, verifyHistory, verifyHistoryDirs } from '../index.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const KEY = AgentIdentity.fromSeed(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'))
const OTHER = AgentIdentity.fromSeed(new Uint8Array(32).fill(7))
const WASM_A = new Uint8Array(32).fill(0xaa)
const WASM_B = new Uint8Array(32).fill(0xbb)
const name = (tick: bigint): string => `${tick.toString().padStart(10, '0')}.ckpt`

function fields(tick: bigint, epoch = new Epoch(1n, 0n), wasmHash = WASM_A): Parameters<typeof encodeCheckpoint>[0] {
  return { budget: 1_000_000n, pricePerSecond: 1000n, tickNumber: tick, wasmHash, epoch, leaseExpiry: 0n, state: Uint8Array.of(Number(tick)) }
}

/** A valid chain of checkpoints at the given ticks. */
function chain(ticks: readonly bigint[], key = KEY, wasmFrom?: bigint): HistoryFile[] {
  let prev = GENESIS_PREV_HASH
  return ticks.map((tick) => {
    const wasm = wasmFrom !== undefined && tick >= wasmFrom ? WASM_B : WASM_A
    const bytes = encodeSignedCheckpoint(fields(tick, new Epoch(1n, 0n), wasm), prev, key)
    prev = checkpointContentHash(bytes)
    return { name: name(tick), bytes }
  })
}

const short = (bytes: Uint8Array | null): string => `${hex((bytes ?? new Uint8Array(8)).subarray(0, 8))}...`
const contentShort = (file: HistoryFile | undefined): string => short(checkpointContentHash(file?.bytes ?? new Uint8Array()))
const prevShort = (file: HistoryFile | undefined): string => short(file?.bytes?.subarray(81, 113) ?? null)

describe('verifyHistory', () => {
  it('prints the full VALID report, with segments per WASM hash', () => {
    const files = chain([1n, 2n, 3n, 5n, 6n], KEY, 5n)
    const result = verifyHistory([...files].reverse())
    expect(result.valid).toBe(true)
    expect(renderLineageReport(result)).toBe(
      'Checkpoint Lineage Verifier\n' +
      '===========================\n' +
      '\n' +
      'Agent:          did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw\n' +
      'Public Key:     d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n' +
      'Checkpoints:    5\n' +
      'Tick Range:     1 → 6\n' +
      '\n' +
      'Execution Segments:\n' +
      '  [1] WASM aaaaaaaaaaaaaaaa...  ticks 1→3 (3 checkpoints)\n' +
      '  [2] WASM bbbbbbbbbbbbbbbb...  ticks 5→6 (2 checkpoints)\n' +
      '\n' +
      'Lineage:        VALID (all 5 signatures verified, chain unbroken)\n'
    )
  })

  it('one node\'s history of an agent that went away and came back names the missing hop (issue 22)', () => {
    // A holds ticks 1–2 at (1,0), B held tick 3 at (2,0), A holds tick 4 at (3,0): A's directory lacks B's file.
    let prev = GENESIS_PREV_HASH
    const all = ([[1n, 1n], [2n, 1n], [3n, 2n], [4n, 3n]] as const).map(([tick, major]) => {
      const bytes = encodeSignedCheckpoint(fields(tick, new Epoch(major, 0n)), prev, KEY)
      prev = checkpointContentHash(bytes)
      return { name: name(tick), bytes }
    })
    const onA = verifyHistory([all[0]!, all[1]!, all[3]!])
    expect(onA.valid).toBe(false)
    expect(onA.errors).toEqual(["history incomplete before tick 4: it continues from another node (epoch (1,0) → (3,0)); add that node's history directory"])
    expect(verifyHistory(all).valid).toBe(true)
  })

  it('tampered: the changed file fails its signature and the next one its prevHash', () => {
    const files = chain([1n, 2n, 3n, 4n])
    const tampered = (files[2]?.bytes as Uint8Array).slice()
    tampered[209] = 0x7f
    const copy = [...files]
    copy[2] = { name: name(3n), bytes: tampered }
    const result = verifyHistory(copy)
    expect(result.errors).toEqual([
      'tick 3: INVALID signature',
      `tick 4: prevHash mismatch (expected ${contentShort(copy[2])}, got ${contentShort(files[2])})`
    ])
    expect(renderLineageReport(result).endsWith(
      '\nLineage:        INVALID (2 errors)\n' +
      '  - tick 3: INVALID signature\n' +
      `  - tick 4: prevHash mismatch (expected ${contentShort(copy[2])}, got ${contentShort(files[2])})\n`
    )).toBe(true)
  })

  it('reordered: swapped contents show non-monotonic ticks and broken links', () => {
    const files = chain([1n, 2n, 3n, 4n])
    const [f1, f2, f3, f4] = files
    const swapped: HistoryFile[] = [f1 as HistoryFile, { name: name(2n), bytes: f3?.bytes ?? null }, { name: name(3n), bytes: f2?.bytes ?? null }, f4 as HistoryFile]
    expect(verifyHistory(swapped).errors).toEqual([
      `tick 3: prevHash mismatch (expected ${contentShort(f1)}, got ${prevShort(f3)})`,
      'tick 2: non-monotonic (prev was 3)',
      `tick 2: prevHash mismatch (expected ${contentShort(f3)}, got ${prevShort(f2)})`,
      `tick 4: prevHash mismatch (expected ${contentShort(f2)}, got ${prevShort(f4)})`
    ])
  })

  it('gapped: a missing file breaks the link of the one after it', () => {
    const files = chain([1n, 2n, 3n, 4n])
    const gapped = files.filter((_, i) => i !== 1)
    const result = verifyHistory(gapped)
    expect(result.errors).toEqual([`tick 3: prevHash mismatch (expected ${contentShort(files[0])}, got ${contentShort(files[1])})`])
    expect(result.checkpoints).toBe(3)
  })

  it('re-keyed: a chain continued with another key says the identity changed', () => {
    const first = chain([1n, 2n])
    const next = encodeSignedCheckpoint(fields(3n), checkpointContentHash(first[1]?.bytes as Uint8Array), OTHER)
    expect(verifyHistory([...first, { name: name(3n), bytes: next }]).errors).toEqual(['tick 3: agent identity changed'])
  })

  it('reports unparseable files, unreadable files and v0x03 after the first in the reference words', () => {
    const files = chain([1n, 2n])
    const result = verifyHistory([
      ...files,
      { name: name(3n), bytes: (files[1]?.bytes as Uint8Array).subarray(0, 100) },
      { name: name(4n), bytes: encodeCheckpoint(fields(4n)) },
      { name: name(5n), bytes: Uint8Array.of(9, 9) },
      { name: name(6n), bytes: new Uint8Array(0) },
      { name: name(7n), bytes: null, readError: 'permission denied' }
    ])
    expect(result.errors).toEqual([
      `failed to parse ${name(3n)}: checkpoint too short: 100 bytes (need 209)`,
      'tick 4: missing lineage (not v4)',
      `failed to parse ${name(5n)}: unsupported checkpoint version: 9`,
      `failed to parse ${name(6n)}: checkpoint empty`,
      `failed to read ${name(7n)}: permission denied`
    ])
    expect(result.checkpoints).toBe(3)
    expect(result.lastTick).toBe(4n)
  })

  it('a v0x03 first file: no Agent/Public Key lines, and the next v0x04 must chain to it', () => {
    const v3 = encodeCheckpoint(fields(1n))
    const next = encodeSignedCheckpoint(fields(2n), checkpointContentHash(v3), KEY)
    const result = verifyHistory([{ name: name(1n), bytes: v3 }, { name: name(2n), bytes: next }])
    // As in the reference: the key of a chain is the first file's, and a v0x03 has none.
    expect(result.errors).toEqual(['tick 2: agent identity changed'])
    expect(renderLineageReport(result).startsWith('Checkpoint Lineage Verifier\n===========================\n\nCheckpoints:    2\n')).toBe(true)
  })
})

describe('several directories', () => {
  it('for the same name the higher epoch wins, whichever directory it is in', () => {
    const low = encodeSignedCheckpoint(fields(5n, new Epoch(1n, 3n)), GENESIS_PREV_HASH, KEY)
    const high = encodeSignedCheckpoint(fields(5n, new Epoch(2n, 0n)), GENESIS_PREV_HASH, KEY)
    for (const order of [[low, high], [high, low]]) {
      const merged = mergeHistories(order.map((bytes) => [{ name: name(5n), bytes }]))
      expect(merged).toHaveLength(1)
      expect(merged[0]?.bytes).toBe(high)
    }
    const unreadable: HistoryFile = { name: name(5n), bytes: null, readError: 'x' }
    expect(mergeHistories([[unreadable], [{ name: name(5n), bytes: low }]])[0]?.bytes).toBe(low)
  })

  it('verifyHistoryDirs merges directories and refuses a missing or empty one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'igor-verify-'))
    const files = chain([1n, 2n, 3n, 4n])
    await mkdir(join(root, 'a'))
    await mkdir(join(root, 'b'))
    await mkdir(join(root, 'empty'))
    await writeFile(join(root, 'empty', 'notes.txt'), 'x')
    for (const [i, file] of files.entries()) await writeFile(join(root, i < 2 ? 'a' : 'b', file.name), file.bytes as Uint8Array)
    expect((await verifyHistoryDirs([join(root, 'a'), join(root, 'b')])).valid).toBe(true)
    // Ours (issue 21; the reference does not check the first file's prevHash): a tail of a history
    // without a pruning marker is missing its start, and says so.
    const tail = await verifyHistoryDirs([join(root, 'b')])
    expect(tail.errors).toEqual([`history incomplete before tick 3: its first checkpoint continues an earlier one (prevHash ${prevShort(files[2])}) and no pruning marker covers it; add the history directories of the nodes it lived on before`])
    // With a marker at or past its first tick it is VALID from there.
    await writeFile(join(root, 'b', PRUNED_MARKER), encodePrunedMarker({ anchorTick: 3n }, 0))
    const pruned = await verifyHistoryDirs([join(root, 'b')])
    expect(pruned.valid).toBe(true)
    expect(pruned.prunedFrom).toBe(3n)
    expect(renderLineageReport(pruned).endsWith('\nLineage:        VALID from tick 3 (earlier history pruned)\n')).toBe(true)
    // A marker naming an earlier anchor does not cover a start deleted after it.
    await writeFile(join(root, 'b', PRUNED_MARKER), encodePrunedMarker({ anchorTick: 2n }, 0))
    expect((await verifyHistoryDirs([join(root, 'b')])).valid).toBe(false)
    // Marker or not, a whole history is plainly VALID.
    expect(renderLineageReport(await verifyHistoryDirs([join(root, 'a'), join(root, 'b')]))).toMatch(/\nLineage: {8}VALID \(all 4 signatures verified, chain unbroken\)\n$/)
    const missing = await verifyHistoryDirs([join(root, 'a'), join(root, 'nope')]).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(HistoryError)
    expect((missing as HistoryError).message).toBe(`read history directory: open ${join(root, 'nope')}: no such file or directory`)
    const empty = await verifyHistoryDirs([join(root, 'empty')]).catch((e: unknown) => e)
    expect((empty as HistoryError).message).toBe(`no checkpoint files found in ${join(root, 'empty')}`)
  })
})

describe('history segments (ours, issue 21)', () => {
  const segment = (...payloads: Uint8Array[]): Buffer => Buffer.concat([encodeSegmentHeader(0), ...payloads.map(encodeHistoryRecord)])

  it('reads segment records as the reference files; a later same-tick record supersedes; both layouts in one directory; a torn tail is no record', async () => {
    const root = await mkdtemp(join(tmpdir(), 'igor-verify-seg-'))
    const files = chain([1n, 2n, 3n, 4n])
    // Ticks 1–2 as reference files (an older node), 3–4 in a segment, with a stale same-tick record of 3 before the good one.
    for (const file of files.slice(0, 2)) await writeFile(join(root, file.name), file.bytes as Uint8Array)
    const stale = encodeSignedCheckpoint(fields(3n, new Epoch(1n, 0n)), new Uint8Array(32).fill(9), KEY)
    const seg = segment(stale, files[2]!.bytes!, files[3]!.bytes!)
    await writeFile(join(root, segmentFileName(3n)), Buffer.concat([seg, Buffer.from([50, 0, 0, 0, 1])]))
    const result = await verifyHistoryDirs([root])
    expect(result.errors).toEqual([])
    expect(result.checkpoints).toBe(4)
    expect(renderLineageReport(result)).toContain('\nLineage:        VALID (all 4 signatures verified, chain unbroken)\n')
  })

  it('damage before a segment\'s end is reported, never read as a record', async () => {
    const root = await mkdtemp(join(tmpdir(), 'igor-verify-seg-'))
    const files = chain([1n, 2n])
    const seg = segment(files[0]!.bytes!, files[1]!.bytes!)
    seg[24 + 8 + 50] = seg[24 + 8 + 50]! ^ 1
    await writeFile(join(root, segmentFileName(1n)), seg)
    const result = await verifyHistoryDirs([root])
    expect(result.valid).toBe(false)
    expect(result.errors).toEqual([expect.stringMatching(/^failed to read seg-0000000001\.hist: checksum mismatch \(.*\) at byte 24$/)])
  })
})
