// What was dropped on the page, sorted into what `igord verify <dir>…` takes:
// one file list per directory (SPEC §12: several directories, e.g. one per node
// the agent lived on), per agent.
import { PRUNED_MARKER, decodePrunedMarker, readCheckpointHeader } from '@igor/checkpoint-codec/portable'
import type { HistoryFile } from '@igor/inspector/browser'
import { isSegmentName, mergeHistories, segmentHistoryFiles } from '@igor/inspector/browser'
import { readExportFile } from './export-file.js'

/** A dropped or chosen file: its path inside the dropped folder (or its bare name) and its bytes. */
export interface InputFile {
  readonly path: string
  readonly bytes: Uint8Array
}

/** One directory's files (or an export file's checkpoint), and where they came from. */
export interface Source {
  /** The directory, the export file, or `selected files`. */
  readonly label: string
  /** The node: a data directory's folder name, or an export's `SourceNodeID`. */
  readonly node: string | null
  /** Set for an export file: its `SourceNodeID` is a node id. */
  readonly exported: boolean
  readonly files: HistoryFile[]
  /** Ours (issue 21): the anchor of the directory's `pruned.json`, when it has one. */
  prunedAnchor?: bigint
}

export interface AgentHistory {
  /** From `history/<agentId>/` or an export's `AgentID`; null when nothing said. */
  readonly agentId: string | null
  readonly sources: Source[]
}

export interface Collected {
  readonly agents: AgentHistory[]
  /** `<path>: <reason>` for each file that was looked at and not used. */
  readonly skipped: string[]
}

const LOOSE = 'selected files'

function split(path: string): { dir: string, base: string } {
  const cut = path.lastIndexOf('/')
  return cut < 0 ? { dir: '', base: path } : { dir: path.slice(0, cut), base: path.slice(cut + 1) }
}

/** `<data-dir>/checkpoints/history/<agentId>/` (SPEC §12 layout): the agent and the data directory's name. */
function placeOf(dir: string): { agentId: string | null, node: string | null } {
  const parts = dir.split('/').filter((p) => p !== '')
  const h = parts.lastIndexOf('history')
  const agentId = h >= 0 && h === parts.length - 2 ? (parts[h + 1] as string) : null
  const c = parts.lastIndexOf('checkpoints')
  const node = c > 0 ? (parts[c - 1] as string) : parts.length > 0 && agentId === null ? (parts[parts.length - 1] as string) : null
  return { agentId, node }
}

/** `%010d.ckpt` of the checkpoint's tick, the name its history file has (SPEC §12). */
function historyName(bytes: Uint8Array, fallback: string): string {
  try {
    return `${readCheckpointHeader(bytes).tickNumber.toString().padStart(10, '0')}.ckpt`
  } catch {
    return `${fallback}.ckpt` // reported by the verifier as `failed to parse`
  }
}

/**
 * Sorts `inputs` into agents and directories: `*.ckpt` files by their folder
 * (bare files into `selected files`, a second file of the same name into
 * `selected files (2)` and so on, as if from another directory), export files
 * (`*.json`) each as a directory of one checkpoint. Files of no named agent
 * join the agent when exactly one is named.
 */
export function collect(inputs: readonly InputFile[]): Collected {
  const skipped: string[] = []
  const byKey = new Map<string, { agentId: string | null, source: Source }>()
  // Ours (issue 21): a directory's history segments, expanded once all of them are in (a later record of a tick wins).
  const segments = new Map<string, HistoryFile[]>()
  const sourceFor = (key: string, agentId: string | null, make: () => Source): Source => {
    let entry = byKey.get(key)
    if (entry === undefined) {
      entry = { agentId, source: make() }
      byKey.set(key, entry)
    }
    return entry.source
  }
  const add = (key: string, agentId: string | null, make: () => Source, file: HistoryFile): void => {
    sourceFor(key, agentId, make).files.push(file)
  }
  for (const input of inputs) {
    const { dir, base } = split(input.path)
    if (base.endsWith('.ckpt')) {
      const place = placeOf(dir)
      if (dir === '') {
        // Bare files: a name seen before goes to the next "directory", so none hides another.
        let n = 1
        while (byKey.get(`\0loose${n}`)?.source.files.some((f) => f.name === base) === true) n++
        const label = n === 1 ? LOOSE : `${LOOSE} (${n})`
        add(`\0loose${n}`, null, () => ({ label, node: null, exported: false, files: [] }), { name: base, path: base, bytes: input.bytes })
      } else {
        add(`dir:${dir}`, place.agentId, () => ({ label: dir, node: place.node, exported: false, files: [] }), { name: base, path: input.path, bytes: input.bytes })
      }
      continue
    }
    if (dir !== '' && (isSegmentName(base) || base === PRUNED_MARKER)) {
      const place = placeOf(dir)
      const source = sourceFor(`dir:${dir}`, place.agentId, () => ({ label: dir, node: place.node, exported: false, files: [] }))
      if (base === PRUNED_MARKER) {
        const marker = decodePrunedMarker(new TextDecoder().decode(input.bytes))
        if (marker === null) skipped.push(`${input.path}: not a pruning marker`)
        else source.prunedAnchor = marker.anchorTick
      } else {
        const list = segments.get(`dir:${dir}`) ?? []
        list.push({ name: base, path: input.path, bytes: input.bytes })
        segments.set(`dir:${dir}`, list)
      }
      continue
    }
    if (base.endsWith('.json')) {
      const exported = readExportFile(input.bytes)
      if ('reason' in exported) {
        skipped.push(`${input.path}: ${exported.reason}`)
        continue
      }
      const name = historyName(exported.checkpoint, base)
      add(`export:${input.path}`, exported.agentId, () => ({ label: input.path, node: exported.sourceNodeId, exported: true, files: [] }),
        { name, path: `${input.path} (Package.Checkpoint)`, bytes: exported.checkpoint })
      continue
    }
    skipped.push(`${input.path}: not a checkpoint (*.ckpt), a history segment (seg-*.hist) or an export file (*.json)`)
  }

  for (const [key, list] of segments) {
    const source = byKey.get(key)!.source
    const records = segmentHistoryFiles(list)
    const merged = source.files.length === 0 ? records : mergeHistories([records, source.files])
    source.files.splice(0, source.files.length, ...merged)
  }
  for (const [key, { source }] of byKey) {
    if (source.files.length === 0) byKey.delete(key) // a marker alone
  }

  const agents = new Map<string | null, Source[]>()
  for (const { agentId, source } of byKey.values()) {
    const list = agents.get(agentId)
    if (list === undefined) agents.set(agentId, [source])
    else list.push(source)
  }
  const named = [...agents.keys()].filter((id) => id !== null)
  const unnamed = agents.get(null)
  if (unnamed !== undefined && named.length === 1) {
    agents.get(named[0] as string)?.push(...unnamed)
    agents.delete(null)
  }
  // Directories in name order, as one would list them on igord verify's command line (on equal epochs the first wins).
  const byLabel = (a: Source, b: Source): number => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)
  return { agents: [...agents].map(([agentId, sources]) => ({ agentId, sources: sources.sort(byLabel) })), skipped }
}
