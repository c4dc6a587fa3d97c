import { HistoryError, renderLineageReport, verifyHistoryDirs } from '@igor/inspector'
import type { Io } from './io.js'

/**
 * `igord verify <dir>…` (SPEC §12): the reference's report on stdout; exit 0
 * when the lineage is valid, 1 when not; a directory that cannot be verified
 * at all prints `Error: …` on stderr and exits 1, as the reference does.
 */
export async function runVerify(dirs: readonly string[], io: Io): Promise<number> {
  try {
    const result = await verifyHistoryDirs(dirs)
    io.stdout(renderLineageReport(result))
    return result.valid ? 0 : 1
  } catch (error) {
    if (error instanceof HistoryError) {
      io.stderr(`Error: ${error.message}\n`)
      return 1
    }
    throw error
  }
}
