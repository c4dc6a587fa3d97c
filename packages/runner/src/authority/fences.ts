import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Epoch, U64_MAX } from '@igor/epoch'
import { RunnerError } from '../errors.js'
import { validateAgentId } from '../store/agent-id.js'
import { DIR_MODE, fsyncDirectory, writeFileAtomic } from '../store/atomic-write.js'
import { errnoCode, storeIoError } from '../store/fs-errors.js'

/**
 * Durable fences of `/igor/authority/1.0.0` (issue 12 item 4): "this node will
 * refuse any package for agent X at or below epoch E". A peer writes one before
 * it answers "I hold nothing newer" to a node that is about to recover X at a
 * higher generation, so a package still in flight from the ambiguous hand-off
 * can never be admitted afterwards.
 *
 * `<dataDir>/fences/<agentId>.json`, written atomically (temp → fsync → rename →
 * fsync dir). Fences only ever rise; a fence is dropped when a package that
 * supersedes it is admitted (the agent's own records fence from then on).
 */
export class FenceStore {
  readonly #dir: string
  readonly #cache = new Map<string, Epoch | null>()
  #ready: Promise<void> | null = null

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'fences')
  }

  /** The highest epoch fenced for the agent, or null. */
  async read(agentId: string): Promise<Epoch | null> {
    validateAgentId(agentId)
    const cached = this.#cache.get(agentId)
    if (cached !== undefined) return cached
    const path = join(this.#dir, `${agentId}.json`)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        this.#cache.set(agentId, null)
        return null
      }
      throw storeIoError(path, 'read', error)
    }
    const epoch = decodeFence(agentId, text, path)
    this.#cache.set(agentId, epoch)
    return epoch
  }

  /** Raises the fence to `epoch` (never lowers it), durably, before returning. */
  async raise(agentId: string, epoch: Epoch): Promise<Epoch> {
    const current = await this.read(agentId)
    if (current !== null && !epoch.supersedes(current)) return current
    this.#ready ??= mkdir(this.#dir, { recursive: true, mode: DIR_MODE }).then(async () => fsyncDirectory(join(this.#dir, '..')))
    await this.#ready
    const text = `${JSON.stringify({ format: 1, agentId, epoch: epoch.toJSON() }, null, 2)}\n`
    await writeFileAtomic(this.#dir, `${agentId}.json`, new TextEncoder().encode(text))
    this.#cache.set(agentId, epoch)
    return epoch
  }

  /** SPEC §7 target 2 + issue 12: refuse a package at or below the fence. */
  async refuseIfFenced(agentId: string, sourceEpoch: Epoch): Promise<void> {
    const fence = await this.read(agentId)
    if (fence !== null && !sourceEpoch.supersedes(fence)) {
      throw new RunnerError('FENCED', `stale package: this node fenced ${agentId} at ${fence} for a peer's recovery; ${sourceEpoch} is not above it`)
    }
  }
}

function decodeFence(agentId: string, text: string, path: string): Epoch {
  const bad = (why: string): RunnerError => new RunnerError('CHECKPOINT_CORRUPT', `${path}: fence record ${why}`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw bad('is not valid JSON')
  }
  const record = json as { format?: unknown, agentId?: unknown, epoch?: { majorVersion?: unknown, leaseGeneration?: unknown } }
  if (record.format !== 1 || record.agentId !== agentId || typeof record.epoch !== 'object' || record.epoch === null) throw bad('has the wrong shape')
  const u64 = (value: unknown): bigint => {
    if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value) || BigInt(value) > U64_MAX) throw bad('has a bad epoch')
    return BigInt(value)
  }
  return new Epoch(u64(record.epoch.majorVersion), u64(record.epoch.leaseGeneration))
}
