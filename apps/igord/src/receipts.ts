// SPEC §15 audit: `igord receipts <agentId> [--data-dir d] [--json]` runs the inspector's audit on the
// agent's files in the data dir (receipts, payments if any, checkpoint if any) — the same report and
// exit code as `igor-inspect --receipts`.
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { runReceipts } from '@igor/inspect'
import type { Io } from './io.js'

const exists = async (path: string): Promise<boolean> => access(path).then(() => true, () => false)

export async function runReceiptsCommand(command: { dataDir: string, agentId: string, json: boolean }, io: Io): Promise<number> {
  const base = join(command.dataDir, 'checkpoints', command.agentId)
  const payments = `${base}.payments`
  const checkpoint = `${base}.checkpoint`
  return await runReceipts(
    {
      receiptsPath: `${base}.receipts`,
      paymentsPath: await exists(payments) ? payments : undefined,
      checkpointPath: await exists(checkpoint) ? checkpoint : undefined,
      json: command.json
    },
    { stdout: { write: (text: string) => io.stdout(text) }, stderr: { write: (text: string) => io.stderr(text) }, program: 'igord' }
  )
}
