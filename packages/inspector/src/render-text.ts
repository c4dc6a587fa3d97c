import { formatMicrocents, formatUnixNanos } from './format.js'
import { hexDump } from './hexdump.js'
import type { CheckpointReport } from './report.js'

const LABEL_WIDTH = 18

function line(label: string, value: string): string {
  return `${`${label}:`.padEnd(LABEL_WIDTH)}${value}`
}

function money(microcents: bigint): string {
  return `${formatMicrocents(microcents)} (${microcents} microcents)`
}

/** The SPEC §8 text report, ending with a newline. */
export function renderText(report: CheckpointReport): string {
  const title = 'Checkpoint Inspector'
  const lines = [title, '='.repeat(title.length), '']
  lines.push(line('Version', `${report.version} (0x${report.version.toString(16).padStart(2, '0')})`))
  lines.push(line('Budget', money(report.budget)))
  lines.push(line('Price/Second', money(report.pricePerSecond)))
  lines.push(line('Tick Number', report.tickNumber.toString()))
  lines.push(line('WASM Hash', report.wasmHash))
  // SPEC §8: v0x02 files carry no epoch or lease, so those lines are left out.
  if (report.epoch !== null) lines.push(line('Epoch', report.epoch.toString()))
  if (report.leaseExpiry !== null) {
    lines.push(line('Lease Expiry', report.leaseExpiry === 0n ? '(none)' : formatUnixNanos(report.leaseExpiry)))
  }
  lines.push(line('Header Size', `${report.headerSize} bytes`))
  lines.push(line('Total Size', `${report.totalSize} bytes`))
  lines.push(line('State Size', `${report.stateSize} bytes`))
  const wasm = report.wasmVerified
  if (wasm !== null) {
    lines.push(line('WASM Verified', wasm.matches ? `YES (matches ${wasm.path})` : `NO (mismatch with ${wasm.path})`))
    // SPEC §10 asks a hash mismatch to name both hashes; the expected one is the WASM Hash line.
    if (!wasm.matches) lines.push(line('WASM Actual Hash', wasm.actualHash))
  }
  if (report.stateSize > 0) {
    lines.push('', ...hexDump(report.statePreview))
    const more = report.stateSize - report.statePreview.length
    if (more > 0) lines.push(`... (${more} more bytes)`)
  }
  return `${lines.join('\n')}\n`
}
