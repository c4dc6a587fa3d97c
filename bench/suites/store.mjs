// SPEC §5 checkpoint store: an atomic, fenced save should cost about what the
// bare durable-write sequence costs (temp file → write → fsync → close → rename
// → fsync of the directory). Both write the same bytes into the same directory,
// interleaved, so disk and page-cache drift hit them alike.
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeCheckpoint } from '@igor/checkpoint-codec'
import { CheckpointStore } from '@igor/runner'

import { STATE_SIZES as SIZES, sampleCheckpointInput as input } from '../lib/checkpoints.mjs'

export const name = 'store'


/** The baseline: the bare durable-replace sequence, nothing else. */
async function rawDurableWrite(dir, fileName, bytes) {
  const temp = join(dir, `${fileName}.${randomBytes(8).toString('hex')}.tmp`)
  const file = await open(temp, 'wx', 0o600)
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset)
    offset += bytesWritten
  }
  await file.sync()
  await file.close()
  await rename(temp, join(dir, fileName))
  const directory = await open(dir, 'r')
  await directory.sync()
  await directory.close()
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function timeMs(fn) {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

/**
 * Rounds of (raw, save bytes, save input) in a fresh random order each round.
 * fsync latency on a shared disk drifts a lot between rounds, so besides the
 * medians we take the median of the per-round ratios: both sides of a ratio
 * come from the same round and see the same disk.
 */
async function interleaved(fns, rounds, warmup) {
  const names = Object.keys(fns)
  const times = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = 0; round < warmup + rounds; round++) {
    const order = [...names].sort(() => Math.random() - 0.5)
    for (const name of order) {
      const ms = await timeMs(fns[name])
      if (round >= warmup) times[name].push(ms)
    }
  }
  return times
}

function ratioRow(name, times, baseline, maxRatio, note) {
  const ratio = median(times.map((t, i) => t / baseline[i]))
  return { name, value: median(times), unit: 'ms/op', ratio, target: `≤ ${maxRatio}×`, ok: ratio <= maxRatio, note }
}

export async function run(ctx) {
  // os.tmpdir() unless IGOR_BENCH_DIR points at the disk you care about; both sides share one directory.
  const root = await mkdtemp(join(process.env.IGOR_BENCH_DIR ?? tmpdir(), 'igor-bench-store-'))
  const rows = []
  try {
    const store = await CheckpointStore.open(root)
    for (const [label, size] of SIZES) {
      ctx.log(`store.save vs raw durable write, ${label} state`)
      const checkpoint = input(size)
      const bytes = encodeCheckpoint(checkpoint)
      const id = `bench-${size}`
      const rounds = ctx.quick ? 7 : size >= 16 * 1024 * 1024 ? 25 : 41
      const t = await interleaved({
        raw: () => rawDurableWrite(store.dir, `raw-${size}.checkpoint`, bytes),
        saveBytes: () => store.save(id, bytes),
        saveInput: () => store.save(`${id}-input`, checkpoint)
      }, rounds, ctx.quick ? 1 : 3)
      const spread = `raw min ${Math.min(...t.raw).toFixed(1)} / max ${Math.max(...t.raw).toFixed(1)} ms over ${rounds} rounds`
      rows.push(ctx.entry(`store raw write+fsync+rename ${label}`, median(t.raw), 'ms/op', { note: spread }))
      rows.push(ratioRow(`store save bytes ${label}`, t.saveBytes, t.raw, 1.15, 'ratio = median of per-round ratios'))
      rows.push(ratioRow(`store save input ${label}`, t.saveInput, t.raw, 1.15, 'from a CheckpointInput: header encoded, state written as is'))
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  return rows
}
