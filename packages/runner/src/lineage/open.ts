import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type Checkpoint, CheckpointError, decodeCheckpoint, verifyCheckpointSignature } from '@igor/checkpoint-codec'
import {
  AgentIdentity, IDENTITY_FILE_MODE, IdentityError, decodeIdentity, didKey, readIdentityFile, removeIdentityFile,
  restrictIdentityFile, writeIdentityFile
} from '@igor/identity'
import { RunnerError } from '../errors.js'
import type { Logger } from '@igor/sandbox'
import { validateAgentId } from '../store/agent-id.js'
import { errnoCode } from '../store/fs-errors.js'
import { AgentLineage, headOf } from './agent-lineage.js'
import type { ChainHead } from './agent-lineage.js'
import { HistoryArchive } from './history.js'
import type { HistoryOptions } from './history.js'

/** `<checkpoints>/<agentId>.identity` (SPEC §12). */
export const IDENTITY_SUFFIX = '.identity'

export function identityPath(checkpointsDir: string, agentId: string): string {
  return join(checkpointsDir, `${validateAgentId(agentId)}${IDENTITY_SUFFIX}`)
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

/** The identity file's bytes, or null when there is none (for putting it back after a refused arrival). */
export async function readIdentityBytes(checkpointsDir: string, agentId: string): Promise<Uint8Array | null> {
  try {
    return (await readIdentityFile(identityPath(checkpointsDir, agentId))).toBytes()
  } catch (error) {
    if (error instanceof IdentityError && error.code === 'MISSING') return null
    throw asRunnerError(error)
  }
}

/** Puts back what `readIdentityBytes` returned (null: no file). */
export async function restoreIdentity(checkpointsDir: string, agentId: string, prior: Uint8Array | null): Promise<void> {
  const path = identityPath(checkpointsDir, agentId)
  try {
    if (prior === null) await removeIdentityFile(path)
    else await writeIdentityFile(path, prior)
  } catch (error) {
    throw asRunnerError(error)
  }
}

/** A retired agent's key leaves with it (SPEC §12: deleted only when RETIRED). */
export async function removeIdentity(checkpointsDir: string, agentId: string): Promise<void> {
  try {
    await removeIdentityFile(identityPath(checkpointsDir, agentId))
  } catch (error) {
    throw asRunnerError(error)
  }
}

function asRunnerError(error: unknown): unknown {
  if (error instanceof IdentityError) {
    return new RunnerError(error.code === 'IO' ? 'STORE_IO' : 'IDENTITY_INVALID', error.message, { cause: error })
  }
  return error
}

/**
 * SPEC §12 "On load": a v0x04 checkpoint's signature must verify with its
 * embedded key, and (ours) that key must be the agent's identity. The file is
 * never touched: the caller refuses the agent.
 */
export function checkSignedCheckpoint(what: string, bytes: Uint8Array, checkpoint: Checkpoint, identity: AgentIdentity | null): void {
  const lineage = checkpoint.lineage
  if (lineage === null) return
  if (!verifyCheckpointSignature(bytes)) {
    throw new RunnerError('SIGNATURE_INVALID', `${what}: signature does not verify with its embedded key ${hex(lineage.agentPubKey)}; refusing it`)
  }
  if (identity !== null && !identity.hasPublicKey(lineage.agentPubKey)) {
    throw new RunnerError('IDENTITY_MISMATCH', `${what}: signed by ${didKey(lineage.agentPubKey)}, but the agent's identity is ${identity.did}; refusing it`)
  }
}

/**
 * The identity and chain of an agent starting on this node from its own files
 * (a new agent, a restart, `igord resume` after import). SPEC §12, ours:
 * - no checkpoint, or a v0x02/v0x03 one, and no identity file: a new identity
 *   is created (0600, atomic) — a new chain starts at genesis;
 * - a v0x04 checkpoint and no identity file, or an identity file that does not
 *   read: the agent is refused with the reason — a key is never regenerated
 *   silently, because that would cut the agent from its own history;
 * - a v0x04 checkpoint must verify and be signed by that identity.
 * The stored checkpoint is archived (again) if the history does not hold
 * exactly it — a kill -9 between the two writes is repaired here.
 */
export async function openLineage(
  checkpointsDir: string,
  agentId: string,
  stored: Uint8Array | null,
  log: Logger,
  history: HistoryOptions = {}
): Promise<AgentLineage> {
  const path = identityPath(checkpointsDir, agentId)
  const checkpoint = stored === null ? null : decodeStoredCheckpoint(path, stored)
  let identity: AgentIdentity
  try {
    identity = await readIdentityFile(path)
    await tightenMode(path)
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error
    if (error.code !== 'MISSING') {
      throw new RunnerError(error.code === 'IO' ? 'STORE_IO' : 'IDENTITY_INVALID', `agent ${agentId}: identity file unusable (${error.message}); refusing to start it (the key cannot be regenerated without breaking its lineage)`, { cause: error })
    }
    if (checkpoint?.lineage != null) {
      throw new RunnerError('IDENTITY_MISSING', `agent ${agentId}: its checkpoint is signed by ${didKey(checkpoint.lineage.agentPubKey)} but the identity file ${path} is missing; refusing to start it (restore the file — a new key would break its lineage)`)
    }
    identity = AgentIdentity.generate()
    try {
      await writeIdentityFile(path, identity)
    } catch (writeError) {
      throw asRunnerError(writeError)
    }
    log.info({ did: identity.did }, 'agent identity created')
  }
  let head: ChainHead | null = null
  if (stored !== null && checkpoint !== null) {
    checkSignedCheckpoint(`agent ${agentId}: stored checkpoint`, stored, checkpoint, identity)
    if (checkpoint.lineage !== null) head = headOf(stored)
  }
  const lineage = new AgentLineage(identity, head, new HistoryArchive(checkpointsDir, agentId, history))
  if (stored !== null && head !== null) await reconcileHistory(lineage, stored, head.tick)
  return lineage
}

/**
 * The lineage of an agent arriving by migration (SPEC §12): the package's
 * identity must read and match the checkpoint's key, and the checkpoint's
 * signature must verify; the chain continues from the package's checkpoint.
 * Without an identity (a v0x03 sender) the agent gets a new one and a new
 * chain. Nothing is written here; `commitArrivalIdentity` writes the file.
 * `contentHash`: the checkpoint's SHA-256 if the caller hashed it as it arrived.
 */
export function lineageForArrival(
  checkpointsDir: string,
  agentId: string,
  checkpointBytes: Uint8Array,
  checkpoint: Checkpoint,
  identityBytes: Uint8Array | undefined,
  history: HistoryOptions = {},
  contentHash?: Uint8Array
): { lineage: AgentLineage, created: boolean } {
  let identity: AgentIdentity | null = null
  if (identityBytes !== undefined && identityBytes.length > 0) {
    try {
      identity = decodeIdentity(identityBytes)
    } catch (error) {
      if (error instanceof IdentityError) throw new RunnerError('IDENTITY_INVALID', `package AgentIdentity is unusable: ${error.message}`, { cause: error })
      throw error
    }
    if (checkpoint.lineage !== null && !identity.hasPublicKey(checkpoint.lineage.agentPubKey)) {
      throw new RunnerError('IDENTITY_MISMATCH', `package AgentIdentity ${identity.did} does not match the checkpoint's agentPubKey ${didKey(checkpoint.lineage.agentPubKey)}`)
    }
  }
  checkSignedCheckpoint('package checkpoint', checkpointBytes, checkpoint, null)
  const continues = identity !== null && checkpoint.lineage !== null
  const head = continues ? headOf(checkpointBytes, contentHash) : null
  return {
    lineage: new AgentLineage(identity ?? AgentIdentity.generate(), head, new HistoryArchive(checkpointsDir, agentId, history)),
    created: identity === null
  }
}

/**
 * SPEC §7 "A held copy yields only to a proven successor": when this node
 * holds an identity for the agent, an arrival must be that same agent — a
 * v0x04 checkpoint signed by the key held here. A package with another key,
 * or with no lineage at all (a v0x03 sender), never replaces a signed copy.
 * The same holds for the key a tombstone kept (the agent left; only it may
 * come back). The signature itself is checked by `lineageForArrival`.
 */
export function requireHeldIdentity(agentId: string, heldIdentity: Uint8Array | null, checkpoint: Checkpoint, tombstoneKeyHex?: string): void {
  let heldKey: Uint8Array
  if (heldIdentity !== null) {
    try {
      heldKey = decodeIdentity(heldIdentity).publicKey
    } catch (error) {
      throw new RunnerError('IDENTITY_INVALID', `this node holds an unreadable identity for ${agentId}; refusing to replace it (${(error as Error).message})`, { cause: error })
    }
  } else if (tombstoneKeyHex !== undefined) {
    // A tombstone keeps the key of the agent that left: only that agent comes back under this id.
    heldKey = Buffer.from(tombstoneKeyHex, 'hex')
  } else {
    return
  }
  const held = didKey(heldKey)
  if (checkpoint.lineage === null) {
    throw new RunnerError('IDENTITY_MISMATCH', `identity mismatch with the copy held here: ${agentId} is ${held} here, the package's checkpoint is unsigned (v0x03)`)
  }
  if (Buffer.compare(Buffer.from(checkpoint.lineage.agentPubKey), heldKey) !== 0) {
    throw new RunnerError('IDENTITY_MISMATCH', `identity mismatch with the copy held here: ${agentId} is ${held} here, the package is signed by ${didKey(checkpoint.lineage.agentPubKey)}`)
  }
}

/** Writes the identity an arrival brought (or was given), 0600 and atomic. */
export async function writeIdentity(checkpointsDir: string, agentId: string, identity: AgentIdentity): Promise<void> {
  try {
    await writeIdentityFile(identityPath(checkpointsDir, agentId), identity)
  } catch (error) {
    throw asRunnerError(error)
  }
}

async function reconcileHistory(lineage: AgentLineage, stored: Uint8Array, tick: bigint): Promise<void> {
  const archived = await lineage.history.read(tick)
  if (archived !== null && Buffer.compare(archived, stored) === 0) return
  await lineage.archive(stored)
}

/** Identity files written by an older node (or the reference) may be world-readable; ours are 0600. */
async function tightenMode(path: string): Promise<void> {
  try {
    const mode = (await stat(path)).mode & 0o777
    if (mode !== IDENTITY_FILE_MODE) await restrictIdentityFile(path)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return
    throw asRunnerError(error)
  }
}

function decodeStoredCheckpoint(path: string, bytes: Uint8Array): Checkpoint {
  try {
    return decodeCheckpoint(bytes)
  } catch (error) {
    if (error instanceof CheckpointError) throw new RunnerError('CHECKPOINT_CORRUPT', `${path}: ${error.message}`, { cause: error })
    throw error
  }
}
