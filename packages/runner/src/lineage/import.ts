import { createHash } from 'node:crypto'
import { type Checkpoint, CheckpointError, decodeCheckpoint } from '@igor/checkpoint-codec'
import { type AgentIdentity, IdentityError, decodeIdentity, readIdentityFile } from '@igor/identity'
import { RunnerError } from '../errors.js'
import type { Logger } from '@igor/sandbox'
import type { CheckpointStore } from '../store/checkpoint-store.js'
import { HistoryArchive } from './history.js'
import { checkSignedCheckpoint, identityPath, writeIdentity } from './open.js'

export interface ImportRequest {
  readonly agentId: string
  /** The copied checkpoint's bytes and where they came from (for messages). */
  readonly checkpoint: Uint8Array
  readonly checkpointPath: string
  /** The agent binary the checkpoint must have been taken from. */
  readonly wasm: Uint8Array
  /** `--identity <file>`: the agent's 68-byte identity; else the data directory's own file. */
  readonly identity?: Uint8Array
  readonly identityPath?: string
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

/**
 * Validates a copied checkpoint completely — decodes, was taken from this
 * binary, (v0x04) its signature verifies and its key is the agent's identity
 * — and only then writes it as the agent's checkpoint (fenced: never over a
 * newer epoch), with the identity file and its history copy. Refuses, with
 * nothing written, a v0x04 checkpoint without an identity: a new key is never
 * made up for a signed agent (the reference's `resume` does; SPEC §12, ours).
 */
export async function importCheckpoint(store: CheckpointStore, request: ImportRequest, log: Logger): Promise<void> {
  const { agentId, checkpointPath } = request
  const { checkpoint, identity, given } = await validateImport(store, request)
  // Validated: now the writes. The identity first, so a stored v0x04 is never without its key.
  if (identity !== null && given) await writeIdentity(store.dir, agentId, identity)
  await store.save(agentId, request.checkpoint)
  if (checkpoint.lineage !== null) await new HistoryArchive(store.dir, agentId).write(checkpoint.tickNumber, request.checkpoint)
  log.info({ from: checkpointPath, tickNumber: checkpoint.tickNumber.toString(), epoch: checkpoint.epoch.toString() }, 'checkpoint imported for resume')
}

/** What `validateImport` found: the decoded checkpoint and the agent's identity (given with `--identity`, or the data directory's). */
export interface ValidatedImport {
  readonly checkpoint: Checkpoint
  readonly identity: AgentIdentity | null
  /** True when the identity came with the request (not from the data directory). */
  readonly given: boolean
}

/**
 * Every check `importCheckpoint` makes, without writing anything: decodes,
 * was taken from this binary, a v0x04 has an identity (never a made-up key),
 * its signature verifies with that identity, and the agent is not retired here.
 */
export async function validateImport(store: CheckpointStore, request: ImportRequest): Promise<ValidatedImport> {
  const { agentId, checkpointPath } = request
  let checkpoint
  try {
    checkpoint = decodeCheckpoint(request.checkpoint)
  } catch (error) {
    if (error instanceof CheckpointError) throw new RunnerError('CHECKPOINT_CORRUPT', `${checkpointPath}: ${error.message}`, { cause: error })
    throw error
  }
  const actual = createHash('sha256').update(request.wasm).digest()
  if (hex(actual) !== hex(checkpoint.wasmHash)) {
    throw new RunnerError('HASH_MISMATCH', `${checkpointPath}: taken from a binary with SHA-256 ${hex(checkpoint.wasmHash)}, the given binary is ${hex(actual)}`)
  }
  let identity: AgentIdentity | null = null
  let given = false
  try {
    if (request.identity !== undefined) {
      identity = decodeIdentity(request.identity)
      given = true
    } else {
      identity = await readIdentityFile(identityPath(store.dir, agentId))
    }
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error
    if (error.code !== 'MISSING') {
      throw new RunnerError('IDENTITY_INVALID', `${request.identityPath ?? identityPath(store.dir, agentId)}: ${error.message}`, { cause: error })
    }
  }
  if (checkpoint.lineage !== null && identity === null) {
    throw new RunnerError('IDENTITY_MISSING', `${checkpointPath} is signed (v0x04) but agent ${agentId} has no identity file ${identityPath(store.dir, agentId)}; copy it there or pass --identity <file> (a new key would break the agent's lineage)`)
  }
  checkSignedCheckpoint(checkpointPath, request.checkpoint, checkpoint, identity)
  // A retired agent is never started again here (SPEC §7): refuse before writing, not after.
  const authority = await store.readAuthority(agentId)
  if (authority?.state === 'RETIRED') {
    throw new RunnerError('AGENT_RETIRED', `agent ${agentId} was handed off from this node${authority.peer !== undefined ? ` to ${authority.peer}` : ''}; a retired agent is never resumed here`)
  }
  return { checkpoint, identity, given }
}
