// SPEC §12 "Moving an agent without the network": `igord export` writes the §7
// AgentTransfer JSON, `{ "Package": { …, "Checkpoint": base64, … }, "SourceNodeID": … }`.
// The verifier takes its checkpoint (the agent's last one) as one more history file.
import { decodeBase64 } from './base64.js'

export interface ExportedCheckpoint {
  readonly agentId: string | null
  /** The node that exported it (`SourceNodeID`), when given. */
  readonly sourceNodeId: string | null
  readonly checkpoint: Uint8Array
}

/** The checkpoint of an export file, or a one-line reason why `bytes` is not one. */
export function readExportFile(bytes: Uint8Array): ExportedCheckpoint | { readonly reason: string } {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    return { reason: 'not JSON' }
  }
  if (typeof value !== 'object' || value === null) return { reason: 'not an export file (no Package)' }
  const record = value as Record<string, unknown>
  // The AgentTransfer an export writes; a bare §7 Package is taken too.
  const pkg = (typeof record.Package === 'object' && record.Package !== null ? record.Package : record) as Record<string, unknown>
  if (typeof pkg.Checkpoint !== 'string') return { reason: 'not an export file (no Package.Checkpoint)' }
  const checkpoint = decodeBase64(pkg.Checkpoint)
  if (checkpoint === null) return { reason: 'Package.Checkpoint is not base64' }
  return {
    agentId: typeof pkg.AgentID === 'string' ? pkg.AgentID : null,
    sourceNodeId: typeof record.SourceNodeID === 'string' && record.SourceNodeID !== '' ? record.SourceNodeID : null,
    checkpoint
  }
}
