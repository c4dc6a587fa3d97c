import { formatUnixNanos, toHex } from './format.js'
import type { CheckpointReport } from './report.js'

/**
 * The SPEC §8 JSON form: the same facts as the text report. 64-bit integers
 * are decimal strings (exact past 2^53); sizes are plain numbers. v0x02 has
 * `epoch`, `leaseExpiry` and `leaseExpiryTime` set to null; v0x02/v0x03 have
 * `lineage` null. Ends with a newline.
 */
export function renderJson(report: CheckpointReport): string {
  const lease = report.leaseExpiry
  const json = {
    version: report.version,
    budget: report.budget.toString(),
    pricePerSecond: report.pricePerSecond.toString(),
    tickNumber: report.tickNumber.toString(),
    wasmHash: report.wasmHash,
    epoch: report.epoch === null
      ? null
      : { majorVersion: report.epoch.majorVersion.toString(), leaseGeneration: report.epoch.leaseGeneration.toString() },
    leaseExpiry: lease === null ? null : lease.toString(),
    leaseExpiryTime: lease === null || lease === 0n ? null : formatUnixNanos(lease),
    headerSize: report.headerSize,
    totalSize: report.totalSize,
    stateSize: report.stateSize,
    statePreviewHex: toHex(report.statePreview),
    wasmVerified: report.wasmVerified,
    // SPEC §12: v0x04 lineage, null for v0x02/v0x03.
    lineage: report.lineage
  }
  return `${JSON.stringify(json, null, 2)}\n`
}
