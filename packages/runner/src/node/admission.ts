// SPEC §7 target side, §7 "What a peer can and cannot do", §11 resources, §12 replay on arrival, §13
// capabilities offered to arrivals: an agent that arrives by migration (or `igord resume`) is checked
// — quarantine, refusal at the door, `--max-agents`, free disk, epoch against the copy held here,
// hashes, manifest, price, identity, fences — loaded, replayed and written before the success reply,
// and a refused or failed arrival leaves exactly the files that were there before. A held stale copy
// yields only to a successor that passed all of it (SPEC §7).
import { type Checkpoint, CheckpointError, decodeCheckpoint } from '@igor/checkpoint-codec'
import type { Epoch } from '@igor/epoch'
import { AuthorityState, Lease } from '@igor/lease'
import { statfs } from 'node:fs/promises'
import type { AgentHost, AgentStatus } from '../agent-host.js'
import { RunnerError } from '../errors.js'
import { type AgentSandbox, EMPTY_MANIFEST, type Manifest, type PreparedAgent, encodeEntries, parseManifest } from '@igor/sandbox'
import { validateAgentId } from '../store/index.js'
import { quarantineReason } from '../containment/quarantine.js'
import { HistoryArchive } from '../lineage/history.js'
import { lineageForArrival, readIdentityBytes, requireHeldIdentity, restoreIdentity } from '../lineage/open.js'
import { importCheckpoint } from '../lineage/import.js'
import type { ImportRequest } from '../lineage/import.js'
import { DEFAULT_REPLAY_SETTINGS, describeReplayOutcome, replayTick, verifiesOnMigrate } from '@igor/replay'
import { hex, sha256 } from './context.js'
import type { NodeContext } from './context.js'
import type { AgentLoader } from './loader.js'
import { checkArrivalReceipts } from '../receipts/arrival.js'
import { checkArrivalPayments } from '../payments/arrival.js'
import { DEFAULT_MIN_FREE_DISK_BYTES } from './types.js'
import type { IncomingAgent, PriorFiles } from './types.js'

/** Admits agents arriving by migration, and imported checkpoints (see the file comment). */
export class Admission {
  constructor(private readonly ctx: NodeContext, private readonly loader: AgentLoader) {}

  /**
   * Verifies an incoming agent, loads it, grants it `(M+1,0)` and persists the
   * checkpoint at that epoch — everything before the success reply. The agent
   * does not tick until `startAdmitted`. Any failure leaves no files behind.
   */
  async admitAgent(incoming: IncomingAgent): Promise<AgentStatus> {
    const agentId = validateAgentId(incoming.agentId)
    this.ctx.refuseIfDraining(agentId) // SPEC §16: the first answer of a draining node, before any lock or check
    return this.ctx.exclusive(agentId, async () => {
      if (this.ctx.quarantined.has(agentId)) throw new RunnerError('AGENT_QUARANTINED', `agent ${agentId} is ${quarantineReason(this.ctx.quarantined.get(agentId)!)}`)
      // SPEC §7: an id whose admissions killed the node 3 times is refused whatever brings it (a peer or `igord import`).
      const atDoor = this.ctx.admissions.refusal({ agentId, peer: incoming.sourceNodeId })
      if (atDoor !== null) throw new RunnerError('ADMISSION_REFUSED', atDoor)
      this.ctx.refuseIfFull(agentId)
      await this.refuseIfDiskLow(agentId, incoming.wasm.byteLength + 2 * incoming.checkpoint.byteLength)
      const existing = this.ctx.hosts.get(agentId)
      // Issue 12 item 2: a newer epoch supersedes a copy stuck here (RECOVERY_REQUIRED, HANDOFF_*).
      const staleCopy = existing !== undefined && supersedesStaleCopy(incoming.sourceEpoch, existing) ? existing : undefined
      if (existing !== undefined && staleCopy === undefined) {
        const stale = !incoming.sourceEpoch.supersedes(existing.epoch)
        throw new RunnerError(stale ? 'FENCED' : 'AGENT_EXISTS', stale
          ? `stale package: this node holds ${agentId} at ${existing.epoch}, not superseded by ${incoming.sourceEpoch}`
          : `agent ${agentId} is already on this node (${existing.state} at ${existing.epoch})`)
      }
      if (incoming.wasmHash.byteLength !== 32) throw new RunnerError('HASH_MISMATCH', `WASMHash must be 32 bytes, got ${incoming.wasmHash.byteLength}`)
      const actual = sha256(incoming.wasm)
      if (hex(actual) !== hex(incoming.wasmHash)) {
        throw new RunnerError('HASH_MISMATCH', `WASMHash ${hex(incoming.wasmHash)} does not match SHA-256 of the binary ${hex(actual)}`)
      }
      const checkpoint = decodeIncomingCheckpoint(incoming.checkpoint)
      if (hex(checkpoint.wasmHash) !== hex(actual)) {
        throw new RunnerError('HASH_MISMATCH', `checkpoint was taken from binary ${hex(checkpoint.wasmHash)}, package carries ${hex(actual)}`)
      }
      if (!checkpoint.epoch.equals(incoming.sourceEpoch)) {
        throw new RunnerError('FENCED', `package epoch ${incoming.sourceEpoch} differs from its checkpoint's ${checkpoint.epoch}`)
      }
      const manifest = incoming.manifestData.byteLength === 0
        ? EMPTY_MANIFEST
        : parseManifest(incoming.manifestData, { source: `migration package for ${agentId}` })
      if (!manifest.migration.enabled) throw new RunnerError('MANIFEST_INVALID', `agent ${agentId} does not allow migration (migration_policy.enabled is false)`)
      this.refuseArrivalCapabilities(agentId, manifest) // SPEC §13: `http` only if offered to arrivals
      const cap = manifest.migration.maxPricePerSecond
      if (cap !== null && this.ctx.price.value > cap) {
        throw new RunnerError('MANIFEST_INVALID', `this node's price ${this.ctx.price.value} exceeds the agent's max_price_per_second ${cap}`)
      }
      // SPEC §15: the receipts that came with it verify, or the package is refused.
      const receipts = checkArrivalReceipts(agentId, incoming.receipts, checkpoint)
      // SPEC §15 wallet_pay: every payment signed by the agent's own key (its checkpoint's), or refused.
      const payments = checkArrivalPayments(agentId, incoming.payments, checkpoint.lineage?.agentPubKey ?? null)
      // SPEC §12: the package's identity must match its checkpoint's key and the signature verify.
      const { lineage, created } = lineageForArrival(this.ctx.store.dir, agentId, incoming.checkpoint, checkpoint, incoming.identity, this.ctx.historyOptions(agentId), incoming.checkpointContentHash)
      // SPEC §7: a copy held here yields only to the same agent (the key held here) at a higher epoch.
      const priorIdentity = await readIdentityBytes(this.ctx.store.dir, agentId)
      const tombstone = priorIdentity === null ? await this.ctx.store.readTombstone(agentId) : null
      requireHeldIdentity(agentId, priorIdentity, checkpoint, tombstone?.agentKey)
      const path = `${agentId}.wasm (from ${incoming.sourceNodeId})`
      let prior: PriorFiles | undefined
      const admit = async (): Promise<AgentHost> => {
        // The disk checks and the compile do not depend on each other.
        const [priorFiles, prepared] = await Promise.all([
          this.ctx.fences.refuseIfFenced(agentId, incoming.sourceEpoch, checkpoint.lineage?.agentPubKey ?? null).then(async () => this.refuseIfStale(agentId, incoming.sourceEpoch)),
          this.ctx.marker.around(agentId, 'loading', async () => this.loader.prepare(incoming.wasm, path, manifest))
        ])
        prior = priorFiles
        const epoch = incoming.sourceEpoch.transferred()
        const lease = this.ctx.options.lease === null ? Lease.unbounded(epoch, this.ctx.clock) : Lease.fromMigration(incoming.sourceEpoch.majorVersion, this.ctx.options.lease, this.ctx.clock)
        const restoreHistory = await new HistoryArchive(this.ctx.store.dir, agentId).capture(checkpoint.tickNumber)
        try {
          if (created) this.ctx.log.warn({ agentId, did: lineage.identity.did }, 'package carried no identity: a new identity and a new chain start here')
          return await this.loader.instantiate(agentId, {
            lineage,
            wasm: incoming.wasm,
            manifest,
            path,
            prepared,
            lease,
            checkpoint,
            // SPEC §7 target 3: from now on the agent pays this node's price.
            pricePerSecond: this.ctx.price.value,
            // Issue 8 point 6: nothing is written before the agent loaded and resumed in its sandbox.
            loadBeforeWriting: true,
            // SPEC §12: the identity file is written with the other records, before the checkpoint it signs.
            writeIdentity: true,
            receipts: { arrived: receipts },
            payments,
            // SPEC §12: the package's last tick is replayed once the agent loaded, before anything is written,
            // in the worker the agent loaded in (no second thread to start on the hand-off's critical path).
            verifyLoaded: async (sandbox) => this.verifyArrivalReplay(agentId, incoming, prepared, checkpoint, sandbox)
          })
          // SPEC §7 target 3: instantiate() made the checkpoint at the new epoch durable; the reply comes after.
        } catch (error) {
          if (staleCopy !== undefined) this.ctx.hosts.set(agentId, staleCopy)
          else this.ctx.hosts.delete(agentId)
          await this.restoreAfterFailedAdmission(agentId, priorFiles)
          await restoreIdentity(this.ctx.store.dir, agentId, priorIdentity).catch(() => undefined)
          await restoreHistory().catch(() => undefined)
          throw error
        }
      }
      // SPEC §7: a stale copy is retired only once its successor passed every check, loaded, replayed and
      // was written — in that step, with the copy held still (no recovery or tick of it in between).
      const host = staleCopy === undefined
        ? await admit()
        : await staleCopy.yieldToSuccessor(`superseded by a package at ${incoming.sourceEpoch} from ${incoming.sourceNodeId}`, admit)
      this.ctx.failed.delete(agentId)
      if (prior?.tombstone === true) {
        // An old tombstone is harmless next to a newer authority record (a restart resumes the agent and
        // drops it), so it is removed off the reply's critical path.
        this.ctx.store.deleteTombstone(agentId).catch((error: unknown) => this.ctx.log.warn({ agentId }, `old tombstone not removed: ${(error as Error).message}`))
      }
      this.ctx.log.info({ agentId, epoch: host.epoch.toString(), from: incoming.sourceNodeId }, 'agent arrived by migration')
      return host.status()
    })
  }

  /**
   * SPEC §12: in modes on-migrate/full, the package's last tick is replayed in
   * a fresh sandbox from its pre-tick state and must reproduce the state in
   * its checkpoint; otherwise the arrival is refused with the reference's text.
   * Nothing has been written yet, so a refusal leaves nothing behind.
   */
  private async verifyArrivalReplay(agentId: string, incoming: IncomingAgent, prepared: PreparedAgent, checkpoint: Checkpoint, beside: AgentSandbox): Promise<void> {
    const data = incoming.replayData
    const settings = this.ctx.options.replay ?? DEFAULT_REPLAY_SETTINGS
    if (data === undefined || data === null || !verifiesOnMigrate(settings)) {
      this.ctx.log.debug({ agentId, mode: settings.mode }, data === undefined || data === null ? 'no replay data in the package' : 'replay on arrival skipped by mode')
      return
    }
    const outcome = await replayTick({
      setup: { agentId, module: prepared.module, capabilities: [...prepared.capabilities], usesWasi: prepared.usesWasi, entry: prepared.entry },
      tickNumber: data.tickNumber,
      preState: data.preTickState,
      log: encodeEntries(data.entries),
      expectedState: checkpoint.state,
      beside,
      ...(this.ctx.options.sandboxLimits !== undefined ? { limits: this.ctx.options.sandboxLimits } : {})
    })
    const text = describeReplayOutcome(outcome)
    if ('skipped' in outcome) {
      // SPEC §11: the replay ran out of this node's resources, which says nothing against the agent.
      this.ctx.log.warn({ agentId, tickNumber: data.tickNumber.toString() }, text)
      return
    }
    if (!outcome.verified) throw new RunnerError('REPLAY_FAILED', text)
    this.ctx.log.info({ agentId, tickNumber: data.tickNumber.toString(), entries: data.entries.length, ms: Math.round(outcome.ms) }, text)
  }

  /**
   * `igord resume <checkpoint> --wasm <wasm>`: makes a copied checkpoint this
   * node's stored checkpoint for the agent, after validating all of it (hash,
   * signature, identity), so a bad copy never replaces a good one. The agent
   * is then started as usual (`startAgent`).
   */
  async importCheckpoint(request: ImportRequest): Promise<void> {
    const agentId = validateAgentId(request.agentId)
    await this.ctx.exclusive(agentId, async () => {
      if (this.ctx.hosts.has(agentId)) throw new RunnerError('AGENT_EXISTS', `agent ${agentId} is already running on this node`)
      await importCheckpoint(this.ctx.store, { ...request, agentId }, this.ctx.log.child({ agentId }))
    })
  }

  /** SPEC §11 free-space floor: an arrival needs room for its files and leaves the floor free. */
  private async refuseIfDiskLow(agentId: string, incomingBytes: number): Promise<void> {
    const floor = this.ctx.options.minFreeDiskBytes ?? DEFAULT_MIN_FREE_DISK_BYTES
    if (floor <= 0) return
    const fs = await statfs(this.ctx.store.dir).catch(() => null)
    if (fs === null) return
    const free = fs.bavail * fs.bsize
    if (free - incomingBytes < floor) {
      throw new RunnerError('NODE_FULL', `this node's disk is full: ${formatMiB(free)} free in the data dir, the floor is ${formatMiB(floor)} (--min-free-disk); ${agentId} refused`)
    }
  }

  /**
   * SPEC §7 target 2: refuse a package whose epoch does not supersede what
   * this node holds for the agent (tombstone, authority record, checkpoint).
   * Returns what was there, so a failed arrival can put it back.
   */
  private async refuseIfStale(agentId: string, sourceEpoch: Epoch): Promise<PriorFiles> {
    const [tombstone, authority, storedBytes, module] = await Promise.all([
      this.ctx.store.readTombstone(agentId),
      this.ctx.store.readAuthority(agentId),
      this.ctx.store.loadBytes(agentId).catch((error: unknown) => {
        throw new RunnerError('FENCED', `this node holds an unreadable checkpoint for ${agentId}; refusing to replace it (${(error as Error).message})`)
      }),
      this.ctx.store.loadModule(agentId).catch((error: unknown) => {
        throw new RunnerError('FENCED', `this node holds an unreadable module for ${agentId}; refusing to replace it (${(error as Error).message})`)
      })
    ])
    const stored = storedBytes?.checkpoint.epoch ?? null
    const held: Array<{ what: string, epoch: Epoch }> = []
    if (tombstone !== null) held.push({ what: 'tombstone', epoch: tombstone.epoch })
    if (authority !== null) held.push({ what: `authority record (${authority.state})`, epoch: authority.epoch })
    if (stored !== null) held.push({ what: 'checkpoint', epoch: stored })
    for (const { what, epoch } of held) {
      if (!sourceEpoch.supersedes(epoch)) {
        throw new RunnerError('FENCED', `stale package: this node's ${what} for ${agentId} is at ${epoch}, not superseded by ${sourceEpoch}`)
      }
    }
    return { authority, checkpoint: storedBytes?.bytes ?? null, module, tombstone: tombstone !== null }
  }

  /** SPEC §13: an arrival declaring a capability this node keeps for its own agents (`http` by default) is refused. */
  private refuseArrivalCapabilities(agentId: string, manifest: Manifest): void {
    for (const capability of manifest.capabilities.keys()) {
      if (this.ctx.offered.has(capability) && !this.ctx.offeredToArrivals.has(capability)) {
        throw new RunnerError('UNDECLARED_CAPABILITY', `agent ${agentId}: capability "${capability}" is not offered to agents arriving by migration (igord --capabilities …,${capability}+arrivals)`)
      }
    }
  }

  /** SPEC §7 target 4: a refused or failed arrival leaves no orphan files and restores what was there. */
  private async restoreAfterFailedAdmission(agentId: string, prior: PriorFiles): Promise<void> {
    const quietly = async (op: () => Promise<void>): Promise<void> => { await op().catch(() => undefined) }
    // A copy held here (a stale one an arrival tried to supersede) gets its own bytes back.
    await quietly(async () => prior.checkpoint === null ? this.ctx.store.delete(agentId) : this.ctx.store.save(agentId, prior.checkpoint))
    await quietly(async () => prior.module === null ? this.ctx.store.deleteModule(agentId) : this.ctx.store.saveModule(agentId, prior.module.wasm, prior.module.manifest))
    await quietly(async () => prior.authority === null ? this.ctx.store.deleteAuthority(agentId) : this.ctx.store.writeAuthority(agentId, prior.authority))
  }
}

/** A copy that does not own the agent, and an epoch above the one it holds. */
function supersedesStaleCopy(sourceEpoch: Epoch, host: AgentHost): boolean {
  return host.state !== AuthorityState.ACTIVE_OWNER && host.state !== AuthorityState.RETIRED && sourceEpoch.supersedes(host.epoch)
}

function decodeIncomingCheckpoint(bytes: Uint8Array): Checkpoint {
  try {
    return decodeCheckpoint(bytes)
  } catch (error) {
    if (error instanceof CheckpointError) throw new RunnerError('CHECKPOINT_CORRUPT', `package checkpoint does not decode: ${error.message}`)
    throw error
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}
