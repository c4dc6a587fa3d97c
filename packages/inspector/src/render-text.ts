import { formatMicrocents, formatUnixSeconds } from './format.js'
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
    // The reference prints Go's RFC 3339 (whole seconds) for a positive expiry, else (none).
    lines.push(line('Lease Expiry', report.leaseExpiry > 0n ? formatUnixSeconds(report.leaseExpiry) : '(none)'))
  }
  const lineage = report.lineage
  if (lineage !== null) {
    // SPEC §12: the v0x04 lines, after Lease Expiry.
    lines.push(line('Agent Identity', lineage.agentPubKey))
    lines.push(line('Previous Hash', lineage.prevHash))
    lines.push(line('Signature', lineage.signatureValid ? 'VALID' : 'INVALID'))
  }
  lines.push(line('Header Size', `${report.headerSize} bytes`))
  lines.push(line('Total Size', `${report.totalSize} bytes`))
  lines.push(line('State Size', `${report.stateSize} bytes`))
  const wasm = report.wasmVerified
  if (wasm !== null) {
    // The report is the reference's, line for line; the actual hash of a mismatching module goes to stderr
    // (`wasmMismatchLine`), so both hashes are named (SPEC §10) without an extra report line (issue 22).
    lines.push(line('WASM Verified', wasm.matches ? `YES (matches ${wasm.path})` : `NO (mismatch with ${wasm.path})`))
  }
  if (report.stateSize > 0) {
    // SPEC §8: line for line the reference's dump, each line indented by two spaces.
    lines.push('', 'State Hex Dump:', ...hexDump(report.statePreview).map((text) => `  ${text}`))
    const more = report.stateSize - report.statePreview.length
    if (more > 0) lines.push(`  ... (${more} more bytes)`)
  }
  if (lineage !== null) lines.push(line('Agent DID', lineage.agentDid))
  return `${lines.join('\n')}\n`
}

/** `WASM Actual Hash: <64 hex>` for a mismatching module (stderr), or null when it matches or was not given. */
export function wasmMismatchLine(report: CheckpointReport): string | null {
  const wasm = report.wasmVerified
  return wasm === null || wasm.matches ? null : `${line('WASM Actual Hash', wasm.actualHash)}\n`
}
