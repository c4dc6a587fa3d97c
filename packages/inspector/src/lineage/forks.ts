import { readCheckpointHeader } from '@igor/checkpoint-codec/portable'
import { toHex } from '../format.js'
import type { LineageCrypto } from './crypto.js'
import type { HistoryFile } from './verify.js'

interface Node { readonly label: string, readonly tick: bigint, readonly content: string, readonly prev: string }

/**
 * SPEC §12: `igord verify` names a fork — two checkpoints of the agent with
 * the same `prevHash` that each went on — as `fork at tick <n>: <file> and
 * <file>`, looking at every file of every directory (before the per-name
 * merge, which would hide one side).
 *
 * Two checkpoints may share a `prevHash` honestly: a checkpoint at the same
 * tick as its predecessor takes the predecessor's place (a lease renewal, a
 * hand-off's arrival), and the replaced one is never continued. So a pair is
 * a fork when both sides have a successor among the files, or when they are
 * at different ticks (a replacement is always at the same tick).
 * Portable: `crypto` hashes (`findForks` binds node:crypto).
 */
export function findForksWith(histories: readonly (readonly HistoryFile[])[], crypto: LineageCrypto): string[] {
  const byContent = new Map<string, Node>()
  for (const history of histories) {
    for (const file of history) {
      if (file.bytes === null) continue
      let header
      try {
        header = readCheckpointHeader(file.bytes)
      } catch {
        continue // reported by the chain checks
      }
      if (header.lineage === null) continue
      const content = toHex(crypto.contentHash(file.bytes))
      if (byContent.has(content)) continue // the same checkpoint in two directories
      byContent.set(content, { label: file.path ?? file.name, tick: header.tickNumber, content, prev: toHex(header.lineage.prevHash) })
    }
  }
  const byPrev = new Map<string, Node[]>()
  for (const node of byContent.values()) {
    const siblings = byPrev.get(node.prev)
    if (siblings === undefined) byPrev.set(node.prev, [node])
    else siblings.push(node)
  }
  const continued = (node: Node): boolean => byPrev.has(node.content)
  const forks: Array<{ tick: bigint, line: string }> = []
  for (const siblings of byPrev.values()) {
    if (siblings.length < 2) continue
    const sorted = [...siblings].sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
    const ticks = new Set(sorted.map((n) => n.tick))
    const branches = ticks.size > 1 ? sorted : sorted.filter(continued)
    const [first, second] = branches
    if (first === undefined || second === undefined) continue
    forks.push({ tick: first.tick, line: `fork at tick ${first.tick}: ${first.label} and ${second.label}` })
  }
  return forks.sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0)).map((f) => f.line)
}
