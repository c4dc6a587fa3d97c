import { type CheckpointInput, GENESIS_PREV_HASH, checkpointContentHash, decodeCheckpoint, encodeSignedCheckpoint } from '@igor/checkpoint-codec'
import type { AgentIdentity } from '@igor/identity'
import type { CheckpointStore } from '../store/checkpoint-store.js'
import type { HistoryArchive } from './history.js'

/** The newest checkpoint of an agent's chain that is durable in the checkpoint file and the history. */
export interface ChainHead {
  readonly tick: bigint
  /** SHA-256 of that checkpoint. */
  readonly contentHash: Uint8Array
  /** Its own prevHash. */
  readonly prevHash: Uint8Array
}

/**
 * The head a v0x04 checkpoint makes. `contentHash`: SHA-256 of exactly these
 * bytes when the caller already has it (an arrival hashed as it came in,
 * SPEC §7 2.0.0); computed here otherwise.
 */
export function headOf(bytes: Uint8Array, contentHash?: Uint8Array): ChainHead {
  const checkpoint = decodeCheckpoint(bytes)
  return {
    tick: checkpoint.tickNumber,
    contentHash: contentHash?.length === 32 ? contentHash.slice() : checkpointContentHash(bytes),
    prevHash: (checkpoint.lineage?.prevHash ?? GENESIS_PREV_HASH).slice()
  }
}

/**
 * One agent's signed lineage on this node (SPEC §12): its identity, the head
 * of its chain, and its history archive.
 *
 * The chain rule (see the runner README): a checkpoint at a higher tick than
 * the head has `prevHash = contentHash(head)`; a checkpoint at the SAME tick as
 * the head (a lease renewal, a shutdown, a hand-off, a revert, an arrival at a
 * new epoch) takes the head's place: `prevHash = head.prevHash`, and it
 * replaces the head's file in the history. So every history verifies, however
 * many checkpoints share a tick. The head moves only after the checkpoint file
 * AND its history copy were written: a failed save leaves the chain where the
 * disk has it.
 */
export class AgentLineage {
  readonly identity: AgentIdentity
  readonly history: HistoryArchive
  #head: ChainHead | null

  constructor(identity: AgentIdentity, head: ChainHead | null, history: HistoryArchive) {
    this.identity = identity
    this.#head = head
    this.history = history
  }

  get head(): ChainHead | null {
    return this.#head
  }

  /** The prevHash a checkpoint at `tick` gets now. */
  prevHashFor(tick: bigint): Uint8Array {
    const head = this.#head
    if (head === null) return GENESIS_PREV_HASH
    return tick === head.tick ? head.prevHash : head.contentHash
  }

  /** Encodes and signs a v0x04 checkpoint chained to the durable head. Does not move the head. */
  seal(input: CheckpointInput): Uint8Array {
    return encodeSignedCheckpoint(input, this.prevHashFor(input.tickNumber), this.identity)
  }

  /**
   * Writes sealed bytes: the checkpoint file (atomic, fenced by the store),
   * then its history copy (atomic), then moves the head. Either write failing
   * throws and leaves the head where it was.
   */
  async persist(store: CheckpointStore, agentId: string, bytes: Uint8Array): Promise<void> {
    await store.save(agentId, bytes)
    await this.archive(bytes)
  }

  /** Archives bytes that are already the agent's checkpoint on disk, then moves the head. */
  async archive(bytes: Uint8Array): Promise<void> {
    const head = headOf(bytes)
    await this.history.write(head.tick, bytes)
    // A write that finished after a newer one (never by the host's ordering) must not move the head back.
    if (this.#head === null || head.tick >= this.#head.tick) this.#head = head
  }
}
