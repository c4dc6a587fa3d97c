// SPEC §12 history (ours, issue 21 item 2): files created and bytes on disk per
// agent-day at the 5 s checkpoint cadence, through the real writer
// (`HistoryArchive.write`: append + fsync per checkpoint, hourly segments,
// default 7-day retention), with a fake clock stepped 5 s per checkpoint — no
// sleeping. Targets: ≤ 24 files per agent-day; bytes on disk ≤ 1.1× the sum of
// the checkpoints' sizes. The reference layout (one file per checkpoint) is
// given beside it, computed: 17 280 files, each at least one 4 KiB block.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GENESIS_PREV_HASH, checkpointContentHash, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import { Epoch } from '@igor/epoch'
import { AgentIdentity } from '@igor/identity'
import { HistoryArchive } from '@igor/runner'

export const name = 'history'

const DAY = 17_280 // checkpoints per agent-day at one every 5 s
const SIZES = [['300 B', 300], ['64 KiB', 64 * 1024]]
const BLOCK = 4096

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
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
  return rows
}
