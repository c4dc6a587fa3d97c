// SPEC §15 `wallet_pay`: `<dataDir>/checkpoints/<agentId>.payments` (`u32 count ‖ (u32 len ‖ receipt)*`,
// the receipts as the agent got them) and its write-ahead sidecar `<agentId>.payments.pending`
// (`u64 fromTick ‖ i64 fromBudget ‖ u32 base ‖ payments blob`), each replaced atomically.
import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { decodePayments, encodePaymentsBlob } from './codec.js'
import { fsyncDirectory, writeFileAtomic } from '../store/atomic-write.js'
import { storeIoError } from '../store/fs-errors.js'

export const PAYMENTS_SUFFIX = '.payments'
export const PENDING_SUFFIX = '.payments.pending'

export const paymentsFileName = (agentId: string): string => `${agentId}${PAYMENTS_SUFFIX}`
const pendingFileName = (agentId: string): string => `${agentId}${PENDING_SUFFIX}`

async function readOptional(path: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(path))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw storeIoError(path, 'read', error)
  }
}

async function removeOptional(dir: string, name: string): Promise<void> {
  const path = join(dir, name)
  try {
    await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw storeIoError(path, 'unlink', error)
  }
  await fsyncDirectory(dir)
}

/** The bytes of `<agentId>.payments`, or null when there is none. */
export const readPaymentsFile = async (dir: string, agentId: string): Promise<Uint8Array | null> => readOptional(join(dir, paymentsFileName(agentId)))

export async function writePaymentsFile(dir: string, agentId: string, receipts: readonly Uint8Array[]): Promise<void> {
  await writeFileAtomic(dir, paymentsFileName(agentId), encodePaymentsBlob(receipts))
}

/** Removes `.payments` and the sidecar (the agent left with its payments); absent is fine. */
export async function deletePaymentsFiles(dir: string, agentId: string): Promise<void> {
  await removeOptional(dir, pendingFileName(agentId))
  await removeOptional(dir, paymentsFileName(agentId))
}

/** The sidecar: payments made since the durable checkpoint `fromTick`/`fromBudget`, each written before the agent sees it. */
export interface PendingPayments {
  /** The tick and budget of the durable checkpoint the payments came after. */
  readonly fromTick: bigint
  readonly fromBudget: bigint
  /** How many payments `.payments` held when the sidecar was written. */
  readonly base: number
  readonly receipts: readonly Uint8Array[]
}

export async function writePendingFile(dir: string, agentId: string, pending: PendingPayments): Promise<void> {
  const head = new Uint8Array(20)
  const view = new DataView(head.buffer)
  view.setBigUint64(0, pending.fromTick, true)
  view.setBigInt64(8, pending.fromBudget, true)
  view.setUint32(16, pending.base, true)
  await writeFileAtomic(dir, pendingFileName(agentId), [head, encodePaymentsBlob(pending.receipts)])
}

/** The sidecar, or null when there is none; a sidecar that does not decode is a `RangeError` naming it. */
export async function readPendingFile(dir: string, agentId: string): Promise<PendingPayments | null> {
  const bytes = await readOptional(join(dir, pendingFileName(agentId)))
  if (bytes === null) return null
  if (bytes.byteLength < 20) throw new RangeError(`${pendingFileName(agentId)}: ${bytes.byteLength} bytes, need at least 20`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { fromTick: view.getBigUint64(0, true), fromBudget: view.getBigInt64(8, true), base: view.getUint32(16, true), receipts: decodePayments(bytes.subarray(20)) }
}

export const deletePendingFile = async (dir: string, agentId: string): Promise<void> => removeOptional(dir, pendingFileName(agentId))
