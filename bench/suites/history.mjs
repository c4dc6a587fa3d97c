// SPEC §12 history (ours, issue 21 item 2): files created and bytes on disk per
// agent-day at the 5 s checkpoint cadence, through the real writer
// (`HistoryArchive.write`: append + fsync per checkpoint, hourly segments,
// default 7-day retention), with a fake clock stepped 5 s per checkpoint — no
// sleeping. Targets: ≤ 24 files per agent-day; bytes on disk ≤ 1.1× the sum of
// the checkpoints' sizes. The reference layout (one file per checkpoint) is
// given beside it, computed: 17 280 files, each at least one 4 KiB block.
// Issue 21 "done means" (a 10 000-agent node runs a week without filling its
// disk): from the measured bytes per agent-day, what 10 000 agents need for
// 7 days and how many days the history disk guard keeps on a 264 GB disk
// (computed rows); and one guard round over 1000 agents' directories, timed.
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GENESIS_PREV_HASH, checkpointContentHash, encodeSegmentHeader, encodeSignedCheckpoint, segmentFileName } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { DEFAULT_MIN_FREE_DISK_BYTES, HistoryArchive, HistoryDiskGuard, historyMinFreeBytes } from '@igor/runner'

export const name = 'history'

const DAY = 17_280 // checkpoints per agent-day at one every 5 s
const SIZES = [['300 B', 300], ['64 KiB', 64 * 1024]]
const BLOCK = 4096
/** Issue 21's node: 10 000 agents, a week, this VM's 264 GB disk. */
const FLEET = 10_000
const WEEK_DAYS = 7
const DISK_BYTES = 264e9

export async function run(ctx) {
  const rows = []
  const key = AgentIdentity.generate()
  for (const [label, size] of SIZES) {
    const dir = await mkdtemp(join(tmpdir(), 'igor-bench-history-'))
    try {
      let now = 1_700_000_000_000
      const history = new HistoryArchive(dir, 'agent', { nowMs: () => now })
      const state = new Uint8Array(size)
      let prev = GENESIS_PREV_HASH
      let sum = 0
      const started = process.hrtime.bigint()
      for (let tick = 0; tick < DAY; tick++) {
        state[tick % size] = tick & 0xff
        const bytes = encodeSignedCheckpoint({
          budget: 1_000_000_000n, pricePerSecond: 1000n, tickNumber: BigInt(tick), wasmHash: new Uint8Array(32).fill(0xcd),
          epoch: new Epoch(1n, 0n), leaseExpiry: 0n, state
        }, prev, key)
        prev = checkpointContentHash(bytes)
        await history.write(BigInt(tick), bytes)
        sum += bytes.byteLength
        now += 5000
      }
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
      let files = 0
      let apparent = 0
      let allocated = 0
      for (const name of await readdir(history.dir)) {
        const st = await stat(join(history.dir, name))
        files++
        apparent += st.size
        allocated += st.blocks * 512
      }
      const onDisk = Math.max(apparent, allocated)
      const referenceBytes = DAY * Math.ceil((209 + size) / BLOCK) * BLOCK
      ctx.log(`${label}: ${files} files, ${apparent} bytes (${allocated} allocated) for ${sum} bytes of checkpoints; ${(elapsedMs / DAY).toFixed(3)} ms per write`)
      rows.push(ctx.entry(`history files per agent-day ${label}`, files, 'files', {
        baseline: 24, maxRatio: 1,
        note: `ratio against 24 files; the reference layout makes ${DAY} files`
      }))
      rows.push(ctx.entry(`history bytes on disk per agent-day ${label}`, onDisk, 'bytes', {
        baseline: sum, maxRatio: 1.1,
        note: `ratio against the ${sum} bytes of checkpoints (max of apparent ${apparent} and allocated ${allocated}); the reference layout takes at least ${referenceBytes} (${(referenceBytes / sum).toFixed(2)}×)`
      }))
      rows.push(ctx.entry(`history write (append+fsync) ${label}`, elapsedMs / DAY, 'ms/op', { note: 'sign + encode + append + fdatasync, one agent, one after another' }))
      rows.push(...fleetRows(ctx, label, onDisk, 209 + size))
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  rows.push(await guardRound(ctx))
  return rows
}

/**
 * Computed from the measured bytes per agent-day: 10 000 agents × 7 days, and
 * the days of history the guard keeps on a 264 GB disk with the default
 * `--history-min-free auto` (max(4 × 256 MiB, 5 %) = 13.2 GB; a round prunes
 * to 1.25 × that free, so history holds at least disk − 16.5 GB − the
 * checkpoints). The guard never deletes an agent's newest segment (up to an
 * hour of it): that floor is in the note.
 */
function fleetRows(ctx, label, perAgentDay, checkpointBytes) {
  const week = perAgentDay * FLEET * WEEK_DAYS
  const watermark = historyMinFreeBytes({ kind: 'auto' }, DISK_BYTES, DEFAULT_MIN_FREE_DISK_BYTES)
  const room = DISK_BYTES - 1.25 * watermark - FLEET * checkpointBytes
  const days = room / (perAgentDay * FLEET)
  const newest = FLEET * perAgentDay / 24
  const gb = (n) => `${(n / 1e9).toFixed(1)} GB`
  ctx.log(`${label}: ${FLEET} agents × ${WEEK_DAYS} days = ${gb(week)}; the guard keeps ${days.toFixed(2)} days in ${gb(room)} of a 264 GB disk`)
  return [
    ctx.entry(`history for ${FLEET} agents × ${WEEK_DAYS} days ${label}`, week, 'bytes', {
      baseline: DISK_BYTES,
      note: `computed: ${perAgentDay} bytes per agent-day (measured above) × ${FLEET} × ${WEEK_DAYS} = ${gb(week)}; ratio against a 264 GB disk`
    }),
    ctx.entry(`history days kept on 264 GB by the disk guard, ${FLEET} agents ${label}`, days, 'days', {
      note: `computed: (264 GB − 1.25 × ${gb(watermark)} (--history-min-free auto) − ${gb(FLEET * checkpointBytes)} of checkpoints) / ${gb(perAgentDay * FLEET)} a day; ` +
        `the newest segments alone (never pruned, up to an hour each) take up to ${gb(newest)}${newest > room ? ': MORE than the disk, the guard warns and the node runs short' : ''}`
    })
  ]
}

/**
 * One guard round over 1000 agents × 24 hourly segments (header-only files,
 * start times interleaved across agents), a fake probe asking for the oldest
 * 2 per agent's worth: the k-way merge, markers, unlinks and directory fsyncs.
 */
async function guardRound(ctx) {
  const agents = ctx.quick ? 200 : 1000
  const segments = 24
  const dir = await mkdtemp(join(tmpdir(), 'igor-bench-guard-'))
  try {
    const base = 1_700_000_000_000
    for (let a = 0; a < agents; a++) {
      const history = join(dir, 'history', `agent-${a}`)
      await mkdir(history, { recursive: true })
      for (let s = 0; s < segments; s++) {
        await writeFile(join(history, segmentFileName(BigInt(s * 720))), encodeSegmentHeader(base + s * 3_600_000 + a))
      }
    }
    const fileBytes = (await stat(join(dir, 'history', 'agent-0', segmentFileName(0n)))).blocks * 512 || 24
    // Free below the watermark by 2000 files' worth, less a quarter of it: the round takes the oldest 2 per agent.
    const need = 2 * agents * fileBytes
    const watermark = 2 * need
    const guard = new HistoryDiskGuard({
      checkpointsDir: dir, minFree: { kind: 'bytes', bytes: watermark }, minFreeDiskBytes: 0,
      statfs: () => Promise.resolve({ bsize: 1, blocks: 1e12, bavail: watermark * 1.25 - need + 1 })
    })
    const started = process.hrtime.bigint()
    const round = await guard.check()
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    if (round.prunedFiles !== 2 * agents) throw new Error(`guard round pruned ${round.prunedFiles} files, expected ${2 * agents}`)
    ctx.log(`guard round: ${round.prunedFiles} files of ${round.agents} agents pruned in ${ms.toFixed(0)} ms (${agents} agents × ${segments} segments)`)
    return ctx.entry(`history disk guard round, ${agents} agents × ${segments} segments`, ms, 'ms', {
      note: `${round.prunedFiles} oldest files (${round.agents} agents touched) deleted, markers first; one readdir per agent, headers of chosen files only; probe-only rounds (free above the watermark) are one statfs`
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
