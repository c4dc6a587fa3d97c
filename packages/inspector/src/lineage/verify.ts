// SPEC §12 "History and `igord verify`": the checks and the report of the
// reference's lineage verifier (internal/inspector/chain.go), line for line.
// Portable (no node: import): the crypto comes in as a `LineageCrypto`.
import { CheckpointError, readCheckpointHeader } from '@igor/checkpoint-codec/portable'
import type { CheckpointHeader } from '@igor/checkpoint-codec/portable'
import type { Epoch } from '@igor/epoch'
import { didKey } from '@igor/identity/portable'
import { toHex } from '../format.js'
import type { LineageCrypto } from './crypto.js'

/** One `*.ckpt` file of a history: its name and either its bytes or why it could not be read. */
export interface HistoryFile {
  readonly name: string
  /** Where it was read (directory and name), to name it in a fork line; `name` when absent. */
  readonly path?: string
  readonly bytes: Uint8Array | null
  /** Set when `bytes` is null: the read failure, e.g. `permission denied`. */
  readonly readError?: string
}

/** A run of consecutive checkpoints with the same WASM hash. */
export interface LineageSegment {
  /** 64 lowercase hex. */
  readonly wasmHash: string
  readonly startTick: bigint
  readonly endTick: bigint
  readonly count: number
}

export interface LineageResult {
  /** `did:key` of the first file's key; null when the first file is not v0x04. */
  readonly agentDid: string | null
  /** 64 hex of the first file's key; null when the first file is not v0x04. */
  readonly agentPubKey: string | null
  /** Files that parsed. */
  readonly checkpoints: number
  readonly firstTick: bigint
  readonly lastTick: bigint
  readonly segments: readonly LineageSegment[]
  /** Each problem as one line, in file order; empty when valid. */
  readonly errors: readonly string[]
  readonly valid: boolean
  /**
   * Ours (issue 21): the first tick of a history whose earlier part was pruned
   * on purpose (a `pruned.json` marker covers it); null for a whole history.
   */
  readonly prunedFrom: bigint | null
}

/** Facts about a history beyond its files (ours, issue 21). */
export interface HistoryContext {
  /**
   * The anchor a `pruned.json` marker names: history before this tick was
   * deleted on purpose. A first checkpoint that is not a genesis (prevHash ≠ 0)
   * at or before it is VALID "from tick N (earlier history pruned)"; without
   * it (or past it) the missing start is an error.
   */
  readonly prunedAnchor?: bigint | null
}

/** The reference's parse error texts (agent.ParseCheckpointHeader), so `failed to parse` lines read the same. */
function parseReason(error: CheckpointError, bytes: Uint8Array): string {
  switch (error.code) {
    case 'EMPTY': return 'checkpoint empty'
    case 'UNSUPPORTED_VERSION': return `unsupported checkpoint version: ${bytes[0]}`
    case 'TOO_SHORT': return `checkpoint too short: ${error.have} bytes (need ${error.need})`
    case 'NEGATIVE_BUDGET': return `checkpoint contains negative budget: ${new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(1, true)}`
    case 'NEGATIVE_PRICE': return `checkpoint contains negative price: ${new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(9, true)}`
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Verifies a history (SPEC §12): sorts the files by name and checks, file by
 * file, that it parses, ticks strictly increase, every file after the first
 * is v0x04, each signature verifies with the file's own key, each `prevHash`
 * is the previous file's content hash, and the key never changes.
 *
 * As the reference does, "first" means the first file by name even when it
 * fails to parse (then the next ones are compared against an empty chain).
 *
 * `crypto` does the hashing and signature checks (`verifyHistory` binds
 * node:crypto; `@igor/inspector/browser` binds a pure JavaScript one).
 */
export function verifyHistoryWith(files: readonly HistoryFile[], crypto: LineageCrypto, context: HistoryContext = {}): LineageResult {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const errors: string[] = []
  const segments: { wasmHash: string, startTick: bigint, endTick: bigint, count: number }[] = []
  let checkpoints = 0
  let firstTick = 0n
  let lastTick = 0n
  let agentDid: string | null = null
  let agentPubKeyHex: string | null = null
  let chainKey: Uint8Array | null = null
  let prevContentHash: Uint8Array = new Uint8Array(32)
  let prevTick = 0n
  let prevEpoch: Epoch | null = null
  let start: { tick: bigint, prevHash: Uint8Array } | null = null

  sorted.forEach((file, i) => {
    if (file.bytes === null) {
      errors.push(`failed to read ${file.name}: ${file.readError ?? 'unreadable'}`)
      return
    }
    const bytes = file.bytes
    let header: CheckpointHeader
    try {
      header = readCheckpointHeader(bytes)
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error
      errors.push(`failed to parse ${file.name}: ${parseReason(error, bytes)}`)
      return
    }
    checkpoints++
    const tick = header.tickNumber
    if (i === 0) {
      firstTick = tick
      if (header.lineage !== null) {
        start = { tick, prevHash: header.lineage.prevHash }
        chainKey = header.lineage.agentPubKey
        agentPubKeyHex = toHex(chainKey)
        agentDid = didKey(chainKey)
      }
    }
    lastTick = tick
    if (i > 0 && tick <= prevTick) errors.push(`tick ${tick}: non-monotonic (prev was ${prevTick})`)

    const lineage = header.lineage
    if (lineage === null) {
      if (i > 0) errors.push(`tick ${tick}: missing lineage (not v4)`)
    } else {
      const signed = crypto.verifyCheckpoint(bytes, lineage)
      if (!signed) {
        errors.push(`tick ${tick}: INVALID signature`)
      }
      if (i > 0) {
        if (!sameBytes(lineage.prevHash, prevContentHash)) {
          // Issue 22: a signed checkpoint whose epoch jumped more than one hop past its predecessor's
          // continues a chain that went through another node — that node's files are missing here.
          const before: Epoch | null = prevEpoch
          const gap = before !== null && header.epoch.majorVersion > before.majorVersion + 1n
          errors.push(gap && signed
            ? `history incomplete before tick ${tick}: it continues from another node (epoch ${String(before)} → ${header.epoch.toString()}); add that node's history directory`
            : `tick ${tick}: prevHash mismatch (expected ${toHex(prevContentHash.subarray(0, 8))}..., got ${toHex(lineage.prevHash.subarray(0, 8))}...)`
          )
        }
        if (chainKey === null || !sameBytes(lineage.agentPubKey, chainKey)) errors.push(`tick ${tick}: agent identity changed`)
      }
    }

    const wasmHash = toHex(header.wasmHash)
    const current = segments[segments.length - 1]
    if (current === undefined || current.wasmHash !== wasmHash) segments.push({ wasmHash, startTick: tick, endTick: tick, count: 1 })
    else {
      current.endTick = tick
      current.count++
    }
    prevContentHash = crypto.contentHash(bytes)
    prevTick = tick
    prevEpoch = header.headerLength > 57 ? header.epoch : null
  })

  // Ours (issue 21): a signed history must start at its genesis, or where a pruning marker says it was cut.
  let prunedFrom: bigint | null = null
  const begin = start as { tick: bigint, prevHash: Uint8Array } | null
  if (begin !== null && !begin.prevHash.every((b) => b === 0)) {
    const anchor = context.prunedAnchor ?? null
    if (anchor !== null && anchor >= begin.tick) prunedFrom = begin.tick
    else {
      errors.unshift(`history incomplete before tick ${begin.tick}: its first checkpoint continues an earlier one (prevHash ${toHex(begin.prevHash.subarray(0, 8))}...) and no pruning marker covers it; add the history directories of the nodes it lived on before`)
    }
  }
  return { agentDid, agentPubKey: agentPubKeyHex, checkpoints, firstTick, lastTick, segments, errors, valid: errors.length === 0, prunedFrom }
}

/**
 * Picks one file per name from several directories' histories (ours, SPEC
 * §12): the one whose checkpoint has the higher epoch wins. A file that
 * parses beats one that does not; on equal epochs the directory given first wins.
 */
export function mergeHistories(histories: readonly (readonly HistoryFile[])[]): HistoryFile[] {
  const chosen = new Map<string, { file: HistoryFile, epoch: Epoch | null }>()
  for (const history of histories) {
    for (const file of history) {
      const epoch = epochOf(file)
      const held = chosen.get(file.name)
      if (held === undefined || (epoch !== null && (held.epoch === null || epoch.supersedes(held.epoch)))) {
        chosen.set(file.name, { file, epoch })
      }
    }
  }
  return [...chosen.values()].map((entry) => entry.file)
}

function epochOf(file: HistoryFile): Epoch | null {
  if (file.bytes === null) return null
  try {
    return readCheckpointHeader(file.bytes).epoch
  } catch {
    return null
  }
}

/** The report exactly as SPEC §12 (and the reference) prints it, newline-terminated. */
export function renderLineageReport(result: LineageResult): string {
  let out = 'Checkpoint Lineage Verifier\n===========================\n\n'
  if (result.agentDid !== null) out += `Agent:          ${result.agentDid}\n`
  if (result.agentPubKey !== null) out += `Public Key:     ${result.agentPubKey}\n`
  out += `Checkpoints:    ${result.checkpoints}\n`
  out += `Tick Range:     ${result.firstTick} → ${result.lastTick}\n`
  if (result.segments.length > 0) {
    out += '\nExecution Segments:\n'
    result.segments.forEach((segment, i) => {
      out += `  [${i + 1}] WASM ${segment.wasmHash.slice(0, 16)}...  ticks ${segment.startTick}→${segment.endTick} (${segment.count} checkpoints)\n`
    })
  }
  out += '\n'
  if (result.valid && result.prunedFrom !== null) out += `Lineage:        VALID from tick ${result.prunedFrom} (earlier history pruned)\n`
  else if (result.valid) out += `Lineage:        VALID (all ${result.checkpoints} signatures verified, chain unbroken)\n`
  else {
    out += `Lineage:        INVALID (${result.errors.length} errors)\n`
    for (const error of result.errors) out += `  - ${error}\n`
  }
  return out
}
