import { Epoch } from '@igor/epoch'
import type { HandoffSnapshot, IncomingAgent } from '@igor/runner'
import { MAX_REPLAY_ENTRIES } from '../wire/decode-limits.js'
import type { AgentPackage, AgentTransfer } from '../wire/types.js'
import { receiptsField, receiptsFromField } from './package-receipts.js'

/**
 * SPEC §7 source 2: the `Package` built from the live instance's hand-off
 * snapshot (never a file on disk). One builder for both ways an agent leaves
 * a node: a hand-off over `/igor/migrate/*` and `igord export` (SPEC §12
 * "Moving an agent without the network"), so the two cannot drift apart.
 */
export function packageFromSnapshot(snapshot: HandoffSnapshot): AgentPackage {
  return {
    AgentID: snapshot.agentId,
    WASMBinary: snapshot.module.wasm,
    WASMHash: snapshot.module.prepared.wasmHash,
    Checkpoint: snapshot.checkpoint,
    ManifestData: snapshot.module.manifest.raw,
    Budget: snapshot.budget,
    PricePerSecond: snapshot.pricePerSecond,
    // SPEC §12: the last tick, when it produced exactly this checkpoint's state; left out past the
    // target's limit (MAX_REPLAY_ENTRIES), like a tick the reference cannot replay.
    ...(snapshot.replayData !== null && snapshot.replayData.entries.length <= MAX_REPLAY_ENTRIES
      ? {
          ReplayData: {
            PreTickState: snapshot.replayData.preTickState,
            TickNumber: snapshot.replayData.tickNumber,
            Entries: snapshot.replayData.entries.map((e) => ({ HostcallID: e.hostcallId, Payload: e.payload }))
          }
        }
      : {}),
    // SPEC §15: the agent's receipts, this node's stay sealed at the final checkpoint.
    ...(snapshot.receipts !== undefined ? { Receipts: receiptsField(snapshot.receipts) } : {}),
    // SPEC §15 wallet_pay (ours): every payment the agent made, after Receipts.
    ...(snapshot.payments !== undefined ? { Payments: snapshot.payments } : {}),
    MajorVersion: snapshot.epoch.majorVersion,
    LeaseGeneration: snapshot.epoch.leaseGeneration,
    // SPEC §12: the identity travels with the agent, from the live instance.
    ...(snapshot.identity !== undefined ? { AgentIdentity: snapshot.identity } : {})
  }
}

/**
 * SPEC §7 target: a decoded transfer as the runtime's arrival, for
 * `admitAgent` — the same mapping for a package from a peer and for a file
 * given to `igord import` (which admits it exactly like a migration).
 * `checkpointContentHash`: the checkpoint's SHA-256 when the reader hashed it
 * as it arrived (2.0.0), so the runner does not hash it again.
 */
export function incomingFromTransfer(transfer: AgentTransfer, checkpointContentHash?: Uint8Array): IncomingAgent {
  const pkg = transfer.Package
  return {
    agentId: pkg.AgentID,
    wasm: pkg.WASMBinary,
    wasmHash: pkg.WASMHash,
    checkpoint: pkg.Checkpoint,
    manifestData: pkg.ManifestData,
    sourceEpoch: new Epoch(pkg.MajorVersion, pkg.LeaseGeneration),
    // SPEC §12: replayed before acceptance in modes on-migrate/full.
    replayData: pkg.ReplayData === undefined
      ? null
      : { preTickState: pkg.ReplayData.PreTickState, tickNumber: pkg.ReplayData.TickNumber, entries: pkg.ReplayData.Entries.map((e) => ({ hostcallId: e.HostcallID, payload: e.Payload })) },
    sourceNodeId: transfer.SourceNodeID,
    ...optionalReceipts(receiptsFromField(pkg.Receipts)),
    ...(pkg.Payments !== undefined && pkg.Payments.length > 0 ? { payments: pkg.Payments } : {}),
    ...(pkg.AgentIdentity !== undefined ? { identity: pkg.AgentIdentity } : {}),
    // SPEC §7 2.0.0: SHA-256 of `Checkpoint`, hashed by the reader as the bytes arrived.
    ...(checkpointContentHash !== undefined ? { checkpointContentHash } : {})
  }
}

const optionalReceipts = (blob: Uint8Array | undefined): { receipts?: Uint8Array } => blob === undefined ? {} : { receipts: blob }
