// SPEC §12 history disk guard (ours, issue 21): the test-only free-space hook,
// and the `igord status` field that says when the guard has nothing left.
// `IGOR_TEST_STATFS_FREE=<bytes>` makes the guard see that many bytes free on
// the data dir's filesystem (the rest of the real `statfs` answer unchanged),
// so an e2e test can make a running igord prune without filling a disk. Read
// only when set; nothing else (arrivals' `--min-free-disk` check) sees it.
import { statfs } from 'node:fs/promises'
import type { DiskShortage, StatfsProbe } from '@igor/runner'

export function testStatfsProbe(env: NodeJS.ProcessEnv = process.env): { historyDiskStatfs?: StatfsProbe } {
  const text = env.IGOR_TEST_STATFS_FREE
  if (text === undefined || text === '') return {}
  const free = Number(text)
  if (!Number.isSafeInteger(free) || free < 0) throw new RangeError(`IGOR_TEST_STATFS_FREE must be a whole number of bytes, got ${JSON.stringify(text)}`)
  return {
    historyDiskStatfs: async (path) => {
      const real = await statfs(path)
      return { bsize: real.bsize, blocks: real.blocks, bavail: Math.floor(free / real.bsize) }
    }
  }
}

/** `igord status` node field while the guard has nothing left to prune and free disk is still short. */
export function diskShortField(short: DiskShortage | null): { diskShort?: { freeBytes: string, watermarkBytes: string, since: string } } {
  if (short === null) return {}
  return { diskShort: { freeBytes: String(short.freeBytes), watermarkBytes: String(short.watermarkBytes), since: new Date(short.sinceMs).toISOString() } }
}
