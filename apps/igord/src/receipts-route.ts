// Issue 21 `--receipts-write-every`: `POST /agents/<id>/receipts/flush` on the control socket brings an
// agent's receipts file up to its open receipt and answers with its SPEC §15 files read under the agent's
// mutex (base64), so `igord receipts` on a running node audits one consistent state, never a checkpoint
// written between its reads. Apart from receipts.ts so the daemon does not load the audit code.
import type { NodeRuntime } from '@igor/runner'

const b64 = (bytes: Uint8Array | null): string | null => bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/** The route; null: not this request. 404 when the agent is not hosted here (the CLI then reads the files). */
export async function receiptsRoute(method: string, path: string, runtime: NodeRuntime | null): Promise<{ status: number, body: unknown } | null> {
  const match = /^\/agents\/([^/]+)\/receipts\/flush$/.exec(path)
  if (method !== 'POST' || match === null || runtime === null) return null
  const agentId = decodeURIComponent(match[1] as string)
  const snapshot = await runtime.receiptsSnapshot(agentId)
  if (snapshot === null) return { status: 404, body: { error: { code: 'NO_AGENT', message: `${agentId} is not running on this node` } } }
  return { status: 200, body: { written: snapshot.written, receipts: b64(snapshot.receipts), checkpoint: b64(snapshot.checkpoint), payments: b64(snapshot.payments) } }
}
