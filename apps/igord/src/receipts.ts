// SPEC §15 audit: `igord receipts <agentId> [--data-dir d] [--json]` runs the inspector's audit on the
// agent's files in the data dir (receipts, payments if any, checkpoint if any) — the same report and
// exit code as `igor-inspect --receipts`. On a running node it first asks the node to write the agent's
// receipts file (a periodic checkpoint may have put that write off, `--receipts-write-every`), so the
// audit sees the receipts as of the durable checkpoint, and audits the three files as the node read them
// under the agent's mutex; a stopped node's files are audited as they are.
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { runReceipts } from '@igor/inspect'
import { ControlUnavailableError, controlRequest } from './control/client.js'
import type { Io } from './io.js'

const FLUSH_TIMEOUT_MS = 30_000

type Snapshot = { receipts?: Uint8Array, checkpoint?: Uint8Array, payments?: Uint8Array }

/** A running node's consistent snapshot of the agent's files (receipts written first); null: read the files. */
async function snapshotFromRunningNode(dataDir: string, agentId: string): Promise<Snapshot | null> {
  let reply: { status: number, body: Record<string, unknown> }
  try {
    reply = await controlRequest(dataDir, 'POST', `/agents/${encodeURIComponent(agentId)}/receipts/flush`, {}, FLUSH_TIMEOUT_MS)
  } catch (error) {
    if (error instanceof ControlUnavailableError) return null // no node running: its files are all there is
    throw error
  }
  if (reply.status !== 200) return null // not hosted there (moved, retired, never): the files as they are
  const bytes = (value: unknown): Uint8Array | undefined => typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : undefined
  const snapshot: Snapshot = {}
  const receipts = bytes(reply.body.receipts)
  const checkpoint = bytes(reply.body.checkpoint)
  const payments = bytes(reply.body.payments)
  if (receipts !== undefined) snapshot.receipts = receipts
  if (checkpoint !== undefined) snapshot.checkpoint = checkpoint
  if (payments !== undefined) snapshot.payments = payments
  return snapshot
}

const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

export async function runReceiptsCommand(command: { dataDir: string, agentId: string, json: boolean }, io: Io): Promise<number> {
  const base = join(command.dataDir, 'checkpoints', command.agentId)
  const payments = `${base}.payments`
  const checkpoint = `${base}.checkpoint`
  const snapshot = await snapshotFromRunningNode(command.dataDir, command.agentId)
  return await runReceipts(
    {
      receiptsPath: `${base}.receipts`,
      paymentsPath: snapshot?.payments !== undefined || (snapshot === null && await exists(payments)) ? payments : undefined,
      checkpointPath: snapshot?.checkpoint !== undefined || (snapshot === null && await exists(checkpoint)) ? checkpoint : undefined,
      ...(snapshot !== null ? { read: snapshot } : {}),
      json: command.json
    },
    { stdout: { write: (text: string) => io.stdout(text) }, stderr: { write: (text: string) => io.stderr(text) }, program: 'igord' }
  )
}
