import { access, mkdir, open, readFile, readdir, unlink } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { type Checkpoint, CheckpointError, type CheckpointInput, HEADER_LENGTH_V4, decodeCheckpoint, encodeCheckpoint } from '@igor/checkpoint-codec'
import type { Epoch } from '@igor/epoch'
import { RunnerError } from '../errors.js'
import { validateAgentId } from './agent-id.js'
import { DIR_MODE, fsyncDirectory, removeStaleTemporaries, writeFileAtomic } from './atomic-write.js'
import { errnoCode, storeIoError } from './fs-errors.js'
import {
  RecordFormatError,
  decodeAuthorityRecord,
  decodeTombstone,
  encodeAuthorityRecord,
  encodeTombstone
} from './records.js'
import type { AuthorityRecord, Tombstone } from './records.js'
import { ModuleFormatError, decodeModuleFile, encodeModuleFile } from './module-file.js'
import { decodeQuarantineRecord, encodeQuarantineRecord } from './quarantine-record.js'
import type { QuarantineRecord } from './quarantine-record.js'
import type { StoredModule } from './module-file.js'

export const CHECKPOINT_SUFFIX = '.checkpoint'
export const AUTHORITY_SUFFIX = '.authority.json'
export const TOMBSTONE_SUFFIX = '.tombstone.json'
export const MODULE_SUFFIX = '.module'
export const QUARANTINE_SUFFIX = '.quarantine.json'
const SUFFIXES = [CHECKPOINT_SUFFIX, AUTHORITY_SUFFIX, TOMBSTONE_SUFFIX, QUARANTINE_SUFFIX]

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Checkpoints, authority records and tombstones under `<dataDir>/checkpoints`
 * (SPEC §5 "Checkpoint store").
 *
 * Every operation on one agent runs in call order (a per-agent promise chain),
 * so a `load` after an un-awaited `save` sees that save, and concurrent saves
 * never race on the fencing check. One store instance per data directory per
 * process: the chain and the epoch cache live in the instance.
 */
export class CheckpointStore {
  readonly dir: string
  /** Epoch of the checkpoint on disk, per agent, known from our own write or read (SPEC §5 fencing). */
  readonly #storedEpochs = new Map<string, Epoch>()
  readonly #queues = new Map<string, Promise<void>>()

  private constructor(dir: string) {
    this.dir = dir
  }

  /** Creates the directory (0700) if needed and removes temporaries a crash left behind. */
  static async open(dataDir: string): Promise<CheckpointStore> {
    const dir = resolve(dataDir, 'checkpoints')
    try {
      await mkdir(dir, { recursive: true, mode: DIR_MODE })
    } catch (error) {
      throw storeIoError(dir, 'create directory', error)
    }
    await removeStaleTemporaries(dir)
    await fsyncDirectory(dir)
    // The entry for `checkpoints/` itself must survive a crash too.
    await fsyncDirectory(dirname(dir))
    return new CheckpointStore(dir)
  }

  checkpointPath(agentId: string): string {
    return join(this.dir, `${validateAgentId(agentId)}${CHECKPOINT_SUFFIX}`)
  }

  authorityPath(agentId: string): string {
    return join(this.dir, `${validateAgentId(agentId)}${AUTHORITY_SUFFIX}`)
  }

  tombstonePath(agentId: string): string {
    return join(this.dir, `${validateAgentId(agentId)}${TOMBSTONE_SUFFIX}`)
  }

  modulePath(agentId: string): string {
    return join(this.dir, `${validateAgentId(agentId)}${MODULE_SUFFIX}`)
  }

  /**
   * Writes the checkpoint atomically. Refuses with `FENCED` when the stored
   * checkpoint's epoch supersedes the new one (equal epochs are fine: periodic
   * checkpoints), and with `CHECKPOINT_CORRUPT` when the stored file does not
   * decode (it is never overwritten). Neither pre-encoded bytes nor
   * `checkpoint.state` are copied: do not change them before the promise
   * settles (the header fields are read at the call).
   */
  async save(agentId: string, checkpoint: CheckpointInput | Uint8Array): Promise<void> {
    validateAgentId(agentId)
    const { chunks, epoch } = encodeForSave(agentId, checkpoint)
    return this.#enqueue(agentId, () => this.#save(agentId, chunks, epoch))
  }

  /** The decoded checkpoint, or null when there is none; `CHECKPOINT_CORRUPT` (file untouched) when it does not decode. */
  async load(agentId: string): Promise<Checkpoint | null> {
    return (await this.loadBytes(agentId))?.checkpoint ?? null
  }

  /** Like `load`, with the file's bytes (SPEC §12: a signature is checked over the exact bytes). */
  async loadBytes(agentId: string): Promise<{ bytes: Uint8Array, checkpoint: Checkpoint } | null> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, async () => {
      const path = this.checkpointPath(agentId)
      const data = await readIfExists(path)
      if (data === null) return null
      const checkpoint = decodeStored(path, data)
      this.#storedEpochs.set(agentId, checkpoint.epoch)
      return { bytes: data, checkpoint }
    })
  }

  /** Removes the checkpoint. A file that does not decode is refused (`CHECKPOINT_CORRUPT`) and kept for the operator. */
  /**
   * The stored checkpoint's epoch from its header alone (cached after the
   * first read), or null when there is none; `CHECKPOINT_CORRUPT` when the
   * header does not decode. Cheap enough for every fencing decision.
   */
  async storedEpoch(agentId: string): Promise<Epoch | null> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, async () => this.#storedEpochs.get(agentId) ?? await this.#readStoredEpoch(agentId))
  }

  /** Whether a module copy (`<id>.module`) exists, without reading it. */
  async hasModule(agentId: string): Promise<boolean> {
    validateAgentId(agentId)
    return access(this.modulePath(agentId)).then(() => true, () => false)
  }

  async delete(agentId: string): Promise<void> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, async () => {
      const path = this.checkpointPath(agentId)
      // SPEC §5: a checkpoint that fails to decode is never deleted by the node.
      if (await this.#readStoredEpoch(agentId) === null) return
      await this.#remove(path)
      this.#storedEpochs.delete(agentId)
    })
  }

  async readAuthority(agentId: string): Promise<AuthorityRecord | null> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, () => this.#readRecord(this.authorityPath(agentId), 'authority record', decodeAuthorityRecord.bind(null, agentId)))
  }

  async writeAuthority(agentId: string, record: AuthorityRecord): Promise<void> {
    validateAgentId(agentId)
    const text = encodeAuthorityRecord(agentId, record)
    return this.#enqueue(agentId, () => writeFileAtomic(this.dir, `${agentId}${AUTHORITY_SUFFIX}`, Buffer.from(text, 'utf8')))
  }

  async deleteAuthority(agentId: string): Promise<void> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, () => this.#remove(this.authorityPath(agentId)))
  }

  async readTombstone(agentId: string): Promise<Tombstone | null> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, () => this.#readRecord(this.tombstonePath(agentId), 'tombstone', decodeTombstone.bind(null, agentId)))
  }

  async writeTombstone(agentId: string, tombstone: Tombstone): Promise<void> {
    validateAgentId(agentId)
    const text = encodeTombstone(agentId, tombstone)
    return this.#enqueue(agentId, () => writeFileAtomic(this.dir, `${agentId}${TOMBSTONE_SUFFIX}`, Buffer.from(text, 'utf8')))
  }

  async deleteTombstone(agentId: string): Promise<void> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, () => this.#remove(this.tombstonePath(agentId)))
  }

  /** SPEC §11: the agent's quarantine marker, or null when it is not quarantined. */
  async readQuarantine(agentId: string): Promise<QuarantineRecord | null> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, () => this.#readRecord(join(this.dir, `${agentId}${QUARANTINE_SUFFIX}`), 'quarantine record', decodeQuarantineRecord.bind(null, agentId)))
  }

  async writeQuarantine(record: QuarantineRecord): Promise<void> {
    const agentId = validateAgentId(record.agentId)
    const text = encodeQuarantineRecord(record)
    return this.#enqueue(agentId, () => writeFileAtomic(this.dir, `${agentId}${QUARANTINE_SUFFIX}`, Buffer.from(text, 'utf8')))
  }

  async deleteQuarantine(agentId: string): Promise<void> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, () => this.#remove(join(this.dir, `${agentId}${QUARANTINE_SUFFIX}`)))
  }

  /** Keeps the agent's binary and manifest bytes (one file, atomic) so it can be resumed without the operator's files. */
  async saveModule(agentId: string, wasm: Uint8Array, manifest: Uint8Array = new Uint8Array(0)): Promise<void> {
    validateAgentId(agentId)
    const bytes = encodeModuleFile(wasm, manifest)
    return this.#enqueue(agentId, () => writeFileAtomic(this.dir, `${agentId}${MODULE_SUFFIX}`, bytes))
  }

  /** The stored binary and manifest, or null; `CHECKPOINT_CORRUPT` naming the file when it is damaged. */
  async loadModule(agentId: string): Promise<StoredModule | null> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, async () => {
      const path = this.modulePath(agentId)
      const data = await readIfExists(path)
      if (data === null) return null
      try {
        return decodeModuleFile(data)
      } catch (error) {
        if (error instanceof ModuleFormatError) throw new RunnerError('CHECKPOINT_CORRUPT', `${path}: ${error.message}`, { cause: error })
        throw error
      }
    })
  }

  async deleteModule(agentId: string): Promise<void> {
    validateAgentId(agentId)
    return this.#enqueue(agentId, () => this.#remove(this.modulePath(agentId)))
  }

  /** Ids that have a checkpoint, an authority record or a tombstone, sorted; unrelated files are ignored. */
  async listAgents(): Promise<string[]> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (error) {
      throw storeIoError(this.dir, 'list', error)
    }
    const ids = new Set<string>()
    for (const name of names) {
      const suffix = SUFFIXES.find((s) => name.endsWith(s))
      if (suffix === undefined) continue
      const id = name.slice(0, -suffix.length)
      if (isValidAgentId(id)) ids.add(id)
    }
    return [...ids].sort()
  }

  async #save(agentId: string, chunks: Uint8Array[], epoch: Epoch): Promise<void> {
    const stored = this.#storedEpochs.get(agentId) ?? await this.#readStoredEpoch(agentId)
    // SPEC §5 fencing: a stale holder must never replace a newer checkpoint.
    if (stored !== null && stored.supersedes(epoch)) {
      throw new RunnerError('FENCED', `refusing to save checkpoint for agent ${JSON.stringify(agentId)}: stored epoch ${stored} supersedes ${epoch} (${this.checkpointPath(agentId)})`)
    }
    try {
      await writeFileAtomic(this.dir, `${agentId}${CHECKPOINT_SUFFIX}`, chunks)
    } catch (error) {
      // The rename may or may not have happened: read the header again next time.
      this.#storedEpochs.delete(agentId)
      throw error
    }
    this.#storedEpochs.set(agentId, epoch)
  }

  /** Epoch of the stored checkpoint from its header alone, or null when there is no file. */
  async #readStoredEpoch(agentId: string): Promise<Epoch | null> {
    const path = this.checkpointPath(agentId)
    // Enough for the longest header (v0x04); a shorter file is read whole.
    const header = await readHeaderIfExists(path, HEADER_LENGTH_V4)
    if (header === null) return null
    const { epoch } = decodeStored(path, header)
    this.#storedEpochs.set(agentId, epoch)
    return epoch
  }

  async #readRecord<T>(path: string, kind: string, decode: (text: string) => T): Promise<T | null> {
    const data = await readIfExists(path)
    if (data === null) return null
    try {
      return decode(utf8.decode(data))
    } catch (error) {
      if (error instanceof RecordFormatError || error instanceof TypeError || error instanceof RangeError) {
        // Never treated as absent: a lost authority record could let a second copy run.
        throw new RunnerError('CHECKPOINT_CORRUPT', `${path}: malformed ${kind} (${error.message})`, { cause: error })
      }
      throw error
    }
  }

  async #remove(path: string): Promise<void> {
    try {
      await unlink(path)
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return
      throw storeIoError(path, 'remove', error)
    }
    await fsyncDirectory(this.dir)
  }

  #enqueue<T>(agentId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(agentId) ?? Promise.resolve()
    const result = previous.then(task)
    const tail = result.then(() => undefined, () => undefined)
    this.#queues.set(agentId, tail)
    void tail.then(() => {
      if (this.#queues.get(agentId) === tail) this.#queues.delete(agentId)
    })
    return result
  }
}

function isValidAgentId(id: string): boolean {
  try {
    validateAgentId(id)
    return true
  } catch {
    return false
  }
}

const NO_STATE = new Uint8Array(0)

/**
 * The chunks to write and their epoch; the store only ever writes v0x03 or
 * v0x04 (signed lineage, SPEC §12, sealed by the agent's lineage) checkpoints that decode. A `CheckpointInput` is written as its encoded
 * header followed by the state itself, which saves copying a large state into
 * one buffer (the file is byte-identical to `encodeCheckpoint(input)`).
 */
function encodeForSave(agentId: string, checkpoint: CheckpointInput | Uint8Array): { chunks: Uint8Array[], epoch: Epoch } {
  const refuse = (reason: string, cause?: unknown): RunnerError =>
    new RunnerError('CHECKPOINT_INVALID', `refusing to save checkpoint for agent ${JSON.stringify(agentId)}: ${reason}`, { cause })
  try {
    if (checkpoint instanceof Uint8Array) {
      const decoded = decodeCheckpoint(checkpoint)
      if (decoded.version < 3) throw refuse(`version ${decoded.version} bytes given, the store writes v0x03 or v0x04 only`)
      return { chunks: [checkpoint], epoch: decoded.epoch }
    }
    if (!(checkpoint.state instanceof Uint8Array)) throw refuse('state must be a Uint8Array')
    const header = encodeCheckpoint({
      budget: checkpoint.budget,
      pricePerSecond: checkpoint.pricePerSecond,
      tickNumber: checkpoint.tickNumber,
      wasmHash: checkpoint.wasmHash,
      epoch: checkpoint.epoch,
      leaseExpiry: checkpoint.leaseExpiry,
      state: NO_STATE
    })
    return { chunks: [header, checkpoint.state], epoch: decodeCheckpoint(header).epoch }
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof TypeError || error instanceof RangeError) throw refuse(error.message, error)
    throw error
  }
}

function decodeStored(path: string, bytes: Uint8Array): Checkpoint {
  try {
    return decodeCheckpoint(bytes)
  } catch (error) {
    if (error instanceof CheckpointError) {
      throw new RunnerError('CHECKPOINT_CORRUPT', `${path}: ${error.message}`, { cause: error })
    }
    throw error
  }
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    const data = await readFile(path)
    // A plain Uint8Array view: callers compare and slice it like any other bytes.
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null
    throw storeIoError(path, 'read', error)
  }
}

/** At most `length` leading bytes of the file, or null when it does not exist. */
async function readHeaderIfExists(path: string, length: number): Promise<Uint8Array | null> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null
    throw storeIoError(path, 'open', error)
  }
  try {
    const buffer = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return buffer.subarray(0, filled)
  } catch (error) {
    throw storeIoError(path, 'read', error)
  } finally {
    await handle.close().catch(() => undefined)
  }
}
