// The timeline beside the report: for each checkpoint of the merged history
// (SPEC §12: one per file name, the higher epoch winning), its tick, epoch and
// the node it was found on; and the hops, runs of one major epoch (a new major
// means the agent moved: SPEC §2/§7, `(M+1,0)` at every arrival).
import { readCheckpointHeader } from '@igor/checkpoint-codec/portable'
import { mergeHistories } from '@igor/inspector/browser'
import type { HistoryFile } from '@igor/inspector/browser'
import type { Source } from './sources.js'

export interface TimelineRow {
  readonly name: string
  readonly tick: bigint | null
  /** `(M,G)`; null when the file does not parse. */
  readonly epoch: string | null
  readonly major: bigint | null
  /** The node the chosen file came from (`nodeOf`). */
  readonly where: string
  /** Other nodes that had a file of this name (an older epoch, or the same checkpoint). */
  readonly alsoIn: readonly string[]
}

export interface Hop {
  readonly major: bigint
  /** `(M,G)` of the run's first and last checkpoints. */
  readonly firstEpoch: string
  readonly lastEpoch: string
  readonly firstTick: bigint
  readonly lastTick: bigint
  readonly count: number
  readonly where: readonly string[]
}

/** The node alone (the directory when no node is known): the timeline's column. */
export const nodeOf = (source: Source): string =>
  source.node === null ? source.label : source.exported ? `${source.node} (export)` : source.node

/** The node and the directory or file it was read from. */
export const whereOf = (source: Source): string =>
  source.node === null ? source.label : source.exported ? `${source.node} (export ${source.label})` : `${source.node} (${source.label})`

export function timeline(sources: readonly Source[]): { rows: TimelineRow[], hops: Hop[] } {
  const owner = new Map<HistoryFile, Source>()
  for (const source of sources) for (const file of source.files) owner.set(file, source)
  const merged = mergeHistories(sources.map((s) => s.files)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const rows = merged.map((file): TimelineRow => {
    const source = owner.get(file) as Source
    const alsoIn = sources.filter((s) => s !== source && s.files.some((f) => f.name === file.name)).map(nodeOf)
    let header = null
    try {
      header = file.bytes === null ? null : readCheckpointHeader(file.bytes)
    } catch {
      header = null
    }
    return {
      name: file.name,
      tick: header?.tickNumber ?? null,
      epoch: header?.epoch?.toString() ?? null,
      major: header?.epoch?.majorVersion ?? null,
      where: nodeOf(source),
      alsoIn
    }
  })
  const hops: Array<{ major: bigint, firstEpoch: string, lastEpoch: string, firstTick: bigint, lastTick: bigint, count: number, where: string[] }> = []
  for (const row of rows) {
    if (row.major === null || row.tick === null || row.epoch === null) continue
    const last = hops[hops.length - 1]
    if (last !== undefined && last.major === row.major) {
      last.lastTick = row.tick
      last.lastEpoch = row.epoch
      last.count++
      if (!last.where.includes(row.where)) last.where.push(row.where)
    } else hops.push({ major: row.major, firstEpoch: row.epoch, lastEpoch: row.epoch, firstTick: row.tick, lastTick: row.tick, count: 1, where: [row.where] })
  }
  return { rows, hops }
}
