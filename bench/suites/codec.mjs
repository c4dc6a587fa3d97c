// SPEC §4: decoding does not copy the state (so its cost must not grow with
// the state), and encoding copies it once (so it should cost about one copy).
import { decodeCheckpoint, encodeCheckpoint } from '@igor/checkpoint-codec'

import { STATE_SIZES as SIZES, sampleCheckpointInput as input } from '../lib/checkpoints.mjs'

export const name = 'codec'


export async function run(ctx) {
  const rows = []
  const encoded = {}
  // Encode against one plain copy of the same bytes, interleaved in one run.
  for (const [label, size] of SIZES) {
    ctx.log(`encode vs copy, state ${label}`)
    const checkpoint = input(size)
    const src = checkpoint.state
    encoded[label] = encodeCheckpoint(checkpoint)
    const t = await ctx.measureAll({
      copy: () => new Uint8Array(src),
      encode: () => encodeCheckpoint(checkpoint)
    })
    rows.push(ctx.entry(`codec copy ${label}`, t.copy.medianNs, 'ns/op'))
    rows.push(ctx.entry(`codec encode ${label}`, t.encode.medianNs, 'ns/op', {
      ratio: ctx.pairedRatio(t.encode, t.copy), maxRatio: 1.5, note: 'ratio = median of per-round encode/copy'
    }))
  }
  // Decodes measured together, away from the allocation-heavy encodes, so GC
  // pauses caused by encoding do not land on them.
  ctx.log('decode, all sizes')
  const fns = {}
  for (const [label] of SIZES) fns[label] = () => decodeCheckpoint(encoded[label])
  const d = await ctx.measureAll(fns)
  const smallest = SIZES[0][0]
  for (const [label] of SIZES) {
    const compare = label === smallest ? {} : { ratio: ctx.pairedRatio(d[label], d[smallest]), maxRatio: 2 }
    rows.push(ctx.entry(`codec decode ${label}`, d[label].medianNs, 'ns/op', compare))
  }
  return rows
}
