// SPEC §15: `<dataDir>/checkpoints/<agentId>.receipts`, the `receipts` blob, replaced atomically (the
// store's atomic write) so a crash leaves the old list or the new one, never a mix.
import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeReceipts } from '@igor/checkpoint-codec'
import type { PaymentReceipt } from '@igor/checkpoint-codec'
import { fsyncDirectory, writeFileAtomic } from '../store/atomic-write.js'
import { storeIoError } from '../store/fs-errors.js'
import { MAX_RECEIPTS, RECEIPTS_SUFFIX } from './types.js'

export const receiptsFileName = (agentId: string): string => `${agentId}${RECEIPTS_SUFFIX}`

/** The bytes of the file, or null when there is none. `STORE_IO` for any other failure. */
export async function readReceiptsFile(dir: string, agentId: string): Promise<Uint8Array | null> {
  const path = join(dir, receiptsFileName(agentId))
  try {
    return new Uint8Array(await readFile(path))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw storeIoError(path, 'read', error)
  }
}

/** The decoded list (bounded); `ReceiptError` for bytes that are not a receipts blob. */
export const decodeReceiptsFile = (bytes: Uint8Array): PaymentReceipt[] => decodeReceipts(bytes, { maxCount: MAX_RECEIPTS })

export async function writeReceiptsFile(dir: string, agentId: string, blob: Uint8Array): Promise<void> {
  await writeFileAtomic(dir, receiptsFileName(agentId), blob)
}

/** Removes the file (the agent left with its receipts); absent is fine. */
export async function deleteReceiptsFile(dir: string, agentId: string): Promise<void> {
  const path = join(dir, receiptsFileName(agentId))
  try {
    await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw storeIoError(path, 'unlink', error)
  }
  await fsyncDirectory(dir)
}
