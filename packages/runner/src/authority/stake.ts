import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { CheckpointError, HEADER_LENGTH_V4, readCheckpointHeader } from '@igor/checkpoint-codec'
import type { Epoch } from '@igor/epoch'
import { readIdentityFile, verifySignature } from '@igor/identity'
import { identityPath } from '../lineage/open.js'
import { HISTORY_DIR } from '../lineage/history.js'
import { newestArchived } from '../lineage/history-files.js'
import { validateAgentId } from '../store/agent-id.js'
import { errnoCode, storeIoError } from '../store/fs-errors.js'

/**
 * SPEC §7 "What a peer can and cannot do": an `/igor/authority/1.0.0` asker
 * proves a stake in agent X by presenting X's latest checkpoint header (the
 * 209-byte v0x04 header: epoch and `agentPubKey`) together with a signature,
 * by that key, of a statement that binds the header to this one question:
 *
 *   "igor/authority/1.0.0 stake\n" ‖ u32 LE len ‖ agentId ‖ u32 LE len ‖ answerer peer id
 *   ‖ u32 LE len ‖ asker peer id ‖ header[0:145]
 *
 * (A checkpoint's own signature covers its whole state, which does not fit in
 * a query; this one proves the asker holds the agent's key now, for this
 * answerer only, and cannot be replayed by another peer or to another node.
 * Its first byte, `i`, is never a checkpoint version, so no statement is ever
 * also a checkpoint signing domain.)
 */
export const STAKE_DOMAIN = 'igor/authority/1.0.0 stake\n'

/** What a verified proof establishes. */
export interface ProvenStake {
  readonly agentPubKey: Uint8Array
  /** The epoch of the presented checkpoint header: a fence for this proof never goes above it. */
  readonly epoch: Epoch
}

/** What the asking node needs to prove its stake: the header of its latest checkpoint and the agent key. */
export interface StakeSigner {
  readonly header: Uint8Array
  readonly epoch: Epoch
  sign(statement: Uint8Array): Uint8Array
}

const enc = new TextEncoder()
const SIGNED_HEADER_BYTES = 145

export function stakeStatement(agentId: string, answerer: string, asker: string, header: Uint8Array): Uint8Array {
  const parts = [enc.encode(STAKE_DOMAIN), ...[agentId, answerer, asker].flatMap((s) => {
    const bytes = enc.encode(s)
    const len = new Uint8Array(4)
    new DataView(len.buffer).setUint32(0, bytes.length, true)
    return [len, bytes]
  }), header.subarray(0, SIGNED_HEADER_BYTES)]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * Checks a presented proof. Returns the key and epoch it proves, or a one-line
 * reason it proves nothing (never throws on peer input).
 */
export function verifyStakeProof(
  proof: { header: Uint8Array, signature: Uint8Array },
  agentId: string,
  answerer: string,
  asker: string
): ProvenStake | { readonly refused: string } {
  if (proof.header.length !== HEADER_LENGTH_V4) return { refused: `stake proof: the header must be the ${HEADER_LENGTH_V4}-byte v0x04 checkpoint header, got ${proof.header.length} bytes` }
  let epoch: Epoch
  let agentPubKey: Uint8Array
  try {
    const header = readCheckpointHeader(proof.header)
    if (header.lineage === null) return { refused: 'stake proof: the header is not a signed v0x04 checkpoint header' }
    epoch = header.epoch
    agentPubKey = header.lineage.agentPubKey.slice()
  } catch (error) {
    return { refused: `stake proof: ${error instanceof CheckpointError ? error.message : 'the header does not decode'}` }
  }
  if (!verifySignature(agentPubKey, stakeStatement(agentId, answerer, asker, proof.header), proof.signature)) {
    return { refused: 'stake proof: the signature does not verify with the header\'s agent key' }
  }
  return { agentPubKey, epoch }
}

/** The first 209 bytes of a file, or null when it does not exist / is shorter. */
async function readHead(path: string): Promise<Uint8Array | null> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw storeIoError(path, 'read', error)
  }
  try {
    const buffer = new Uint8Array(HEADER_LENGTH_V4)
    const { bytesRead } = await handle.read(buffer, 0, HEADER_LENGTH_V4, 0)
    return bytesRead === HEADER_LENGTH_V4 ? buffer : null
  } finally {
    await handle.close()
  }
}

function keyOf(head: Uint8Array | null): Uint8Array | null {
  if (head === null) return null
  try {
    return readCheckpointHeader(head).lineage?.agentPubKey.slice() ?? null
  } catch {
    return null
  }
}

/**
 * The agent key this node knows for `agentId`: its identity file, else the key
 * of its checkpoint on disk, else of the newest checkpoint in its history
 * archive (kept after the agent retired). Null: the node never held a signed
 * copy of it (or only an identity-less v0x03 one).
 */
export async function knownAgentKey(checkpointsDir: string, agentId: string): Promise<Uint8Array | null> {
  validateAgentId(agentId)
  try {
    return (await readIdentityFile(identityPath(checkpointsDir, agentId))).publicKey
  } catch {
    // Missing (retired, or never had one) or corrupt: fall back to what the checkpoints say.
  }
  const fromCheckpoint = keyOf(await readHead(join(checkpointsDir, `${agentId}.checkpoint`)))
  if (fromCheckpoint !== null) return fromCheckpoint
  // The newest archived checkpoint (a segment's last record, or the newest reference `.ckpt` file).
  const newest = await newestArchived(join(checkpointsDir, HISTORY_DIR, agentId)).catch(() => null)
  return newest === null ? null : keyOf(newest)
}

/**
 * The asking side: the agent's identity and the header of its latest
 * checkpoint, from this node's disk. Null when the agent has no identity or no
 * v0x04 checkpoint here (an identity-less agent cannot prove a stake; it
 * recovers by hand or through a peer whose records name this node).
 */
export async function readStakeSigner(checkpointsDir: string, agentId: string): Promise<StakeSigner | null> {
  validateAgentId(agentId)
  let identity
  try {
    identity = await readIdentityFile(identityPath(checkpointsDir, agentId))
  } catch {
    return null
  }
  const header = await readHead(join(checkpointsDir, `${agentId}.checkpoint`))
  if (header === null) return null
  let epoch: Epoch
  try {
    const decoded = readCheckpointHeader(header)
    if (decoded.lineage === null || !identity.hasPublicKey(decoded.lineage.agentPubKey)) return null
    epoch = decoded.epoch
  } catch {
    return null
  }
  return { header, epoch, sign: (statement) => identity.sign(statement) }
}
