// SPEC §5 restart, §11 failure containment and quarantine: starting agents given by the operator,
// resuming the ones stored here after a restart (in bounded parallel lanes, suspects last and alone),
// halting an agent whose own code fails at start without stopping the node, the quarantine and its
// release, and the `status` rows of every agent this node holds — live, failed, quarantined, retired
// (SPEC §6).
import { basename } from 'node:path'
import { Epoch } from '@igor/epoch'
import { AuthorityState } from '@igor/lease'
import type { AgentHost, AgentStatus } from '../agent-host.js'
import { RunnerError } from '../errors.js'
import { runtimeEvents } from '../observer.js'
import { EMPTY_MANIFEST, SandboxError, loadManifest, parseManifest, readWasmFile } from '@igor/sandbox'
import { validateAgentId } from '../store/index.js'
import type { Tombstone } from '../store/index.js'
import { clearStrikes, quarantineReason } from '../containment/quarantine.js'
import type { NodeContext } from './context.js'
import type { AgentLoader } from './loader.js'
import type { StartAgentOptions } from './types.js'

/** How long a suspect's first tick is waited for before the next load starts (SPEC §11). */
const SUSPECT_SETTLE_MS = 3_000

/** Starts, resumes, halts at start and releases agents; reports them (see the file comment). */
export class Lifecycle {
  constructor(private readonly ctx: NodeContext, private readonly loader: AgentLoader) {}

  /** `--run-agent`: load a new agent, or resume it from its checkpoint (SPEC §5 restart). */
  async startAgent(options: StartAgentOptions): Promise<AgentStatus> {
    const agentId = agentIdFor(options)
    return this.ctx.exclusive(agentId, async () => {
      if (this.ctx.quarantined.has(agentId)) return this.quarantineStatus(agentId, true)
      this.ctx.refuseIfFull(agentId)
      const wasm = await readWasmFile(options.wasmPath)
      const manifest = await loadManifest(options.wasmPath, options.manifestPath)
      return this.asSuspect(agentId, async () => {
        let host: AgentHost
        try {
          host = await this.loader.load(agentId, { wasm, manifest, path: options.wasmPath, budget: options.budget })
        } catch (error) {
          // SPEC §11 failure containment: the agent's own code failing at start halts that agent only.
          if (isAgentFault(error)) return this.haltedAtStart(agentId, error)
          throw error
        }
        host.start()
        await this.settleSuspect(host)
        return host.status()
      })
    })
  }

  /**
   * SPEC §11: a suspect loads and first ticks in a window with no other agent
   * inside a call (`CallMarker.alone`), so a death there names it alone.
   */
  private async asSuspect<T>(agentId: string, run: () => Promise<T>): Promise<T> {
    if (!this.ctx.suspectIds.has(agentId)) return run()
    // The others' calls wait during the window, lease renewals among them: it stays short of a lease
    // (an agent renews with at least duration × renewalWindow left, plus the grace).
    const lease = this.ctx.options.lease
    const maxMs = lease === null
      ? SUSPECT_SETTLE_MS
      : Math.min(SUSPECT_SETTLE_MS, (lease.durationMs * lease.renewalWindow + lease.gracePeriodMs) / 2)
    return this.ctx.marker.alone(agentId, run, maxMs)
  }

  /**
   * Resumes every agent stored in the data directory that is not already
   * running (agents that arrived by migration, or ran here before). Failures
   * are reported per agent and never stop the others.
   */
  async resumeStoredAgents(concurrency = 1, options: { skipSuspects?: boolean } = {}): Promise<Array<{ agentId: string, error?: string }>> {
    // Issue 11: a restart with many stored agents loads them in parallel (bounded), like --run-agent;
    // each agent's own steps still run under its exclusive lock. Results keep the store's order.
    // SPEC §11: suspects come last, one at a time (`suspects`), or not at all with skipSuspects.
    const ids = await this.ctx.store.listAgents()
    const slots: Array<{ agentId: string, error?: string } | null> = ids.map(() => null)
    const run = async (indexes: number[], lanes: number): Promise<void> => {
      let next = 0
      const lane = async (): Promise<void> => {
        while (next < indexes.length) {
          const index = indexes[next++] as number
          slots[index] = await this.resumeStoredAgent(ids[index] as string)
        }
      }
      await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, indexes.length)) }, lane))
    }
    const all = ids.map((_, index) => index)
    await run(all.filter((index) => !this.ctx.suspectIds.has(ids[index] as string)), concurrency)
    if (options.skipSuspects !== true) await run(all.filter((index) => this.ctx.suspectIds.has(ids[index] as string)), 1)
    return slots.filter((slot): slot is { agentId: string, error?: string } => slot !== null)
  }

  /**
   * SPEC §11: a suspect is held (its load lock kept, the caller waiting)
   * until its first tick here completes, it halts, or SUSPECT_SETTLE_MS
   * pass; the next load starts only then.
   */
  private async settleSuspect(host: AgentHost): Promise<void> {
    if (!this.ctx.suspectIds.has(host.agentId)) return
    const from = host.status().tickNumber
    const until = performance.now() + SUSPECT_SETTLE_MS
    while (performance.now() < until && host.ticking && host.status().tickNumber === from) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  private async resumeStoredAgent(agentId: string): Promise<{ agentId: string, error?: string } | null> {
    // An agent already running, or one that already failed in this run (e.g. a --run-agent that trapped), is not retried.
    if (this.ctx.hosts.has(agentId) || this.ctx.failed.has(agentId)) return null
    if (this.ctx.quarantined.has(agentId)) {
      return { agentId, error: (await this.quarantineStatus(agentId, true)).halted ?? 'quarantined' }
    }
    try {
      const status = await this.ctx.exclusive(agentId, async () => {
        const stored = await this.ctx.store.loadModule(agentId)
        if (stored === null) return null
        this.ctx.refuseIfFull(agentId)
        const manifest = stored.manifest.byteLength === 0
          ? EMPTY_MANIFEST
          : parseManifest(stored.manifest, { source: `${agentId} (stored manifest)` })
        return this.asSuspect(agentId, async () => {
          const host = await this.loader.load(agentId, { wasm: stored.wasm, manifest, path: `${agentId}.wasm (stored)`, budget: 0n, mustResume: true })
          host.start()
          await this.settleSuspect(host)
          return host.status()
        })
      })
      return status !== null ? { agentId } : null
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      if (isAgentFault(error) || (error instanceof RunnerError && error.code === 'NODE_FULL')) {
        await this.haltedAtStart(agentId, error)
        return { agentId, error: oneLine(error) }
      } else if (!(error instanceof RunnerError && error.code === 'AGENT_RETIRED')) {
        const authority = await this.ctx.store.readAuthority(agentId).catch(() => null)
        // Issue 12 item 3: status shows the state the authority record holds (the reason says why it is halted).
        this.ctx.failed.set(agentId, { state: authority?.state ?? AuthorityState.RECOVERY_REQUIRED, epoch: authority?.epoch ?? Epoch.ZERO, reason })
        this.ctx.log.error({ agentId }, `agent not started: ${reason}`)
        return { agentId, error: reason }
      }
      return null
    }
  }

  /** SPEC §6 status: live agents, agents that failed to load, and tombstones (RETIRED). */
  async status(): Promise<AgentStatus[]> {
    const rows = new Map<string, AgentStatus>()
    for (const [agentId, host] of this.ctx.hosts) rows.set(agentId, host.status())
    for (const agentId of this.ctx.quarantined.keys()) rows.set(agentId, await this.quarantineStatus(agentId, false))
    for (const [agentId, failure] of this.ctx.failed) {
      if (!rows.has(agentId)) rows.set(agentId, { agentId, state: failure.state, epoch: failure.epoch, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: failure.reason })
    }
    for (const agentId of await this.ctx.store.listAgents()) {
      if (rows.has(agentId)) continue
      const tombstone = await this.ctx.store.readTombstone(agentId).catch(() => null)
      if (tombstone !== null) rows.set(agentId, tombstoneStatus(tombstone))
    }
    return [...rows.values()].sort((a, b) => a.agentId.localeCompare(b.agentId))
  }

  /**
   * `igord release <agentId>`: the explicit operator action that lifts a
   * quarantine (SPEC §11). The agent's death count starts again from 0; a
   * stored agent is resumed at once, otherwise it starts with its next
   * `--run-agent`.
   */
  async release(agentId: string): Promise<AgentStatus> {
    validateAgentId(agentId)
    // SPEC §7/§11: an agent id or a peer refused at the door is welcome again.
    const atDoor = await this.ctx.admissions.release(agentId)
    if (atDoor && !this.ctx.quarantined.has(agentId)) {
      this.ctx.log.warn({ id: agentId }, 'admissions refused at the door released by the operator')
      return { agentId, state: AuthorityState.RETIRED, epoch: Epoch.ZERO, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: 'released: its packages are admitted again' }
    }
    if (!this.ctx.quarantined.has(agentId)) throw new RunnerError('AGENT_NOT_FOUND', `agent ${agentId} is not quarantined on this node`)
    await clearStrikes(this.ctx.store, agentId)
    await this.ctx.store.deleteQuarantine(agentId)
    this.ctx.quarantined.delete(agentId)
    this.ctx.failed.delete(agentId)
    this.ctx.log.warn({ agentId }, 'quarantine released by the operator')
    await this.resumeStoredAgents()
    const row = (await this.status()).find((a) => a.agentId === agentId)
    return row ?? { agentId, state: AuthorityState.ACTIVE_OWNER, epoch: Epoch.ZERO, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: 'released; starts with its next --run-agent' }
  }

  /**
   * SPEC §11: a trap, a missed deadline or a bad pointer from the agent while
   * it starts (start function, agent_init, agent_resume, the first checkpoint)
   * halts that agent with a one-line reason; the node and the others go on.
   */
  private async haltedAtStart(agentId: string, error: unknown): Promise<AgentStatus> {
    const reason = `start failed: ${oneLine(error)}`
    const authority = await this.ctx.store.readAuthority(agentId).catch(() => null)
    const state = authority?.state ?? AuthorityState.ACTIVE_OWNER
    const epoch = authority?.epoch ?? Epoch.ZERO
    this.ctx.failed.set(agentId, { state, epoch, reason })
    runtimeEvents.halt(agentId, reason)
    this.ctx.log.error({ agentId, code: (error as { code?: string }).code ?? (error as { kind?: string }).kind }, `agent halted: ${reason}`)
    return { agentId, state, epoch, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: reason }
  }

  async quarantineStatus(agentId: string, announce: boolean): Promise<AgentStatus> {
    const reason = quarantineReason(this.ctx.quarantined.get(agentId)!)
    const authority = await this.ctx.store.readAuthority(agentId).catch(() => null)
    if (announce) this.ctx.log.error({ agentId }, `agent not started: ${reason}`)
    return { agentId, state: authority?.state ?? AuthorityState.ACTIVE_OWNER, epoch: authority?.epoch ?? Epoch.ZERO, leaseExpiry: 0n, tickNumber: 0n, budget: 0n, pricePerSecond: 0n, halted: reason }
  }
}

/** The id an agent given by file gets: `--agent-id`, else the file name without `.wasm`. */
export function agentIdFor(options: { agentId?: string | undefined, wasmPath: string }): string {
  return validateAgentId(options.agentId ?? basename(options.wasmPath).replace(/\.wasm$/i, ''))
}

/** Failures of the agent's own code (as opposed to the node's files, flags or the module's shape). */
function isAgentFault(error: unknown): boolean {
  return error instanceof SandboxError || (error instanceof RunnerError && error.code === 'AGENT_INIT_FAILED')
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
}

function tombstoneStatus(tombstone: Tombstone): AgentStatus {
  return {
    agentId: tombstone.agentId,
    state: AuthorityState.RETIRED,
    epoch: tombstone.epoch,
    leaseExpiry: 0n,
    tickNumber: 0n,
    budget: 0n,
    pricePerSecond: 0n,
    // SPEC §12: an export's tombstone reads `exported to <file>` as it is.
    halted: tombstone.movedTo.startsWith('exported to ') ? `retired: ${tombstone.movedTo}` : `retired: handed off to ${tombstone.movedTo}`,
    movedTo: tombstone.movedTo
  }
}
