import { GENESIS_PREV_HASH, encodeHistoryRecord, encodePrunedMarker, encodeSegmentHeader, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { describe, expect, it } from 'vitest'
import { readExportFile } from './export-file.js'
import { collect } from './sources.js'
import { timeline } from './timeline.js'

const KEY = AgentIdentity.fromSeed(new Uint8Array(32).fill(5))
const ckpt = (tick: bigint, epoch = new Epoch(1n, 0n)): Uint8Array =>
  encodeSignedCheckpoint({ budget: 1n, pricePerSecond: 1n, tickNumber: tick, wasmHash: new Uint8Array(32), epoch, leaseExpiry: 0n, state: Uint8Array.of(1) }, GENESIS_PREV_HASH, KEY)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('collect: dropped files into igord verify\'s directories', () => {
  it('folders by directory and agent; bare files of one name into separate directories; unnamed files join the one named agent', () => {
    const { agents, skipped } = collect([
      { path: 'b/checkpoints/history/counter/0000000002.ckpt', bytes: ckpt(2n) },
      { path: 'a/checkpoints/history/counter/0000000001.ckpt', bytes: ckpt(1n) },
      { path: 'a/checkpoints/counter.identity', bytes: new Uint8Array(68) },
      { path: '0000000003.ckpt', bytes: ckpt(3n) },
      { path: '0000000003.ckpt', bytes: ckpt(3n, new Epoch(2n, 0n)) }
    ])
    expect(agents.map((a) => a.agentId)).toEqual(['counter'])
    expect(agents[0]?.sources.map((s) => [s.label, s.node, s.files.map((f) => f.path)])).toEqual([
      ['a/checkpoints/history/counter', 'a', ['a/checkpoints/history/counter/0000000001.ckpt']],
      ['b/checkpoints/history/counter', 'b', ['b/checkpoints/history/counter/0000000002.ckpt']],
      ['selected files', null, ['0000000003.ckpt']],
      ['selected files (2)', null, ['0000000003.ckpt']]
    ])
    expect(skipped).toEqual(['a/checkpoints/counter.identity: not a checkpoint (*.ckpt), a history segment (seg-*.hist) or an export file (*.json)'])
    const { rows, hops } = timeline(agents[0]?.sources ?? [])
    expect(rows.map((r) => [r.tick, r.epoch, r.where, r.alsoIn])).toEqual([
      [1n, '(1,0)', 'a', []], [2n, '(1,0)', 'b', []], [3n, '(2,0)', 'selected files (2)', ['selected files']]
    ])
    expect(hops.map((h) => [h.firstEpoch, h.lastEpoch, h.firstTick, h.lastTick, h.count])).toEqual([['(1,0)', '(1,0)', 1n, 2n, 2], ['(2,0)', '(2,0)', 3n, 3n, 1]])
  })

  it('export files: the AgentTransfer (or a bare Package), its checkpoint named by tick, its node; others refused with a reason', () => {
    const b64 = Buffer.from(ckpt(7n)).toString('base64')
    const transfer = text(JSON.stringify({ Package: { AgentID: 'x', Checkpoint: b64 }, SourceNodeID: '12D3KooWNode' }))
    const { agents, skipped } = collect([
      { path: 'x.json', bytes: transfer },
      { path: 'bare.json', bytes: text(JSON.stringify({ AgentID: 'x', Checkpoint: b64 })) },
      { path: 'other.json', bytes: text('{"hello":1}') },
      { path: 'bad.json', bytes: text('{"Package":{"Checkpoint":"!!"}}') },
      { path: 'broken.json', bytes: text('{') }
    ])
    expect(agents).toHaveLength(1)
    expect(agents[0]?.sources.map((s) => [s.label, s.node, s.exported, s.files.map((f) => f.name)])).toEqual([
      ['bare.json', null, true, ['0000000007.ckpt']],
      ['x.json', '12D3KooWNode', true, ['0000000007.ckpt']]
    ])
    expect(skipped).toEqual([
      'other.json: not an export file (no Package.Checkpoint)',
      'bad.json: Package.Checkpoint is not base64',
      'broken.json: not JSON'
    ])
    expect(readExportFile(text('null'))).toEqual({ reason: 'not an export file (no Package)' })
  })

  it('history segments (ours, issue 21): each record as the file of its tick, a later record superseding; a pruning marker kept for the verifier', () => {
    const seg = new Uint8Array(Buffer.concat([encodeSegmentHeader(0), encodeHistoryRecord(ckpt(4n)), encodeHistoryRecord(ckpt(5n)), encodeHistoryRecord(ckpt(5n, new Epoch(1n, 1n)))]))
    const { agents, skipped } = collect([
      { path: 'a/checkpoints/history/counter/seg-0000000004.hist', bytes: seg },
      { path: 'a/checkpoints/history/counter/0000000003.ckpt', bytes: ckpt(3n) },
      { path: 'a/checkpoints/history/counter/pruned.json', bytes: text(encodePrunedMarker({ anchorTick: 3n }, 0)) }
    ])
    expect(skipped).toEqual([])
    const source = agents[0]?.sources[0]
    expect(source?.prunedAnchor).toBe(3n)
    expect(source?.files.map((f) => [f.name, f.path]).sort()).toEqual([
      ['0000000003.ckpt', 'a/checkpoints/history/counter/0000000003.ckpt'],
      ['0000000004.ckpt', 'a/checkpoints/history/counter/seg-0000000004.hist@24'],
      ['0000000005.ckpt', expect.stringMatching(/seg-0000000004\.hist@\d+$/)]
    ])
    const five = source?.files.find((f) => f.name === '0000000005.ckpt')
    expect(five?.bytes).toEqual(ckpt(5n, new Epoch(1n, 1n)))
  })
})
