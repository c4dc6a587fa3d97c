import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@igor/sandbox'
import { writeFileAtomic } from '../store/atomic-write.js'
import { MAX_AGENT_ID_LENGTH } from '../store/agent-id.js'
import { QUARANTINE_AFTER_STARTS, countStrikes } from './quarantine.js'
import type { Strike } from './quarantine.js'

/**
 * SPEC §7 "What a peer can and cannot do" and §11 containment, for arriving
 * packages: an admission in progress is marked with its peer and, once the
 * package names it, its agent id, so a node process that dies while decoding
 * or loading a package counts that death against both. After
 * `QUARANTINE_AFTER_STARTS` (3) consecutive such deaths the peer and the id
 * are refused at the door, before a byte is decoded, until an operator
 * releases them (`igord release <id or peer>`).
 *
 * `<dataDir>/admissions.inflight` holds one fixed-size slot per admission in
 * progress, set and cleared with positional writes and no fsync, as
 * `calls.inflight` (call-marker.ts): the page cache outlives the process.
 * Slot: [0] 1 = in progress, [1] peer length, [2…] peer, [PEER_END] id
 * length, [PEER_END+1…] agent id. Counts and refusals are durable JSON files
 * beside the runner's crash strikes.
 */
export const ADMISSION_MARKER_FILE = 'admissions.inflight'
export const ADMISSION_STRIKES_FILE = 'admission-strikes.json'
export const ADMISSION_REFUSALS_FILE = 'admission-refusals.json'

const MAX_PEER_LENGTH = 128
const PEER_END = 2 + MAX_PEER_LENGTH
const SLOT_BYTES = PEER_END + 1 + MAX_AGENT_ID_LENGTH + 7 // 266

/** An admission the previous process died in. */
export interface DiedAdmitting { readonly peer: string, readonly agentId: string | null }

/** A peer or an agent id refused at the door. */
export interface AdmissionRefusal {
  readonly kind: 'peer' | 'agent'
  readonly id: string
  readonly deaths: number
  readonly sinceNs: string
  readonly reason: string
}

type Refusals = { peers: Record<string, AdmissionRefusal>, agents: Record<string, AdmissionRefusal> }
type Strikes = { peers: Record<string, Strike>, agents: Record<string, Strike> }

/** An admission in progress, as `@igor/migration`'s target marks it. */
export interface AdmissionInProgress {
  agent(agentId: string): void
  end(): void
}

export function admissionRefusalReason(kind: 'peer' | 'agent', id: string, deaths: number): string {
  const what = kind === 'peer' ? `packages from peer ${id}` : `a package of agent ${id}`
  return `refused at the door: the node died while admitting ${what} on ${deaths} consecutive starts; release with \`igord release ${id}\``
}

/**
 * Test-only hook (runner README): `IGOR_TEST_ABORT_IN=<agentId>:admitting`
 * kills the process with SIGKILL as soon as an admission names that agent,
 * standing in for a package that takes the node down while it is decoded.
 */
function testAbortId(): string | null {
  const spec = process.env.IGOR_TEST_ABORT_IN
  if (spec === undefined || !spec.endsWith(':admitting')) return null
  return spec.slice(0, -':admitting'.length) || null
}

export class AdmissionGuard {
  private readonly free: number[] = []
  private next = 0
  private readonly abortId = testAbortId()

  private constructor(
    private fd: number | null,
    private readonly dir: string | null,
    private readonly refused: Refusals
  ) {}

  /**
   * At node start, before the network serves anything: reads the admissions
   * the previous process died in, updates the consecutive counts (durable),
   * records the peers and ids that reached the limit, and starts an empty
   * marker file for this process.
   */
  static async open(dataDir: string, storeDir: string, nowNs: () => bigint, log: Logger): Promise<AdmissionGuard> {
    const path = join(dataDir, ADMISSION_MARKER_FILE)
    const died = parseSlots(readIfExists(path))
    const previous = await readJson<Strikes>(storeDir, ADMISSION_STRIKES_FILE, { peers: {}, agents: {} })
    const refused = await readJson<Refusals>(storeDir, ADMISSION_REFUSALS_FILE, { peers: {}, agents: {} })
    const peers = countStrikes(previous.peers ?? {}, unique(died.map((d) => d.peer)))
    const agents = countStrikes(previous.agents ?? {}, unique(died.flatMap((d) => (d.agentId === null ? [] : [d.agentId]))))
    for (const { peer, agentId } of died) {
      log.warn({ peer, agentId }, `the previous node process died while admitting a package from ${peer}${agentId === null ? '' : ` (agent ${agentId})`}`)
    }
    const now = nowNs().toString()
    let changed = false
    for (const [kind, result] of [['peer', peers], ['agent', agents]] as const) {
      for (const { agentId: id, starts } of result.quarantine) {
        const refusal: AdmissionRefusal = { kind, id, deaths: starts, sinceNs: now, reason: admissionRefusalReason(kind, id, starts) }
        if (kind === 'peer') refused.peers[id] = refusal
        else refused.agents[id] = refusal
        changed = true
        log.error({ [kind]: id, deaths: starts }, refusal.reason)
      }
    }
    if (changed) await writeFileAtomic(storeDir, ADMISSION_REFUSALS_FILE, json(refused))
    const strikes: Strikes = { peers: peers.strikes, agents: agents.strikes }
    if (JSON.stringify(strikes) !== JSON.stringify({ peers: previous.peers ?? {}, agents: previous.agents ?? {} })) {
      await writeFileAtomic(storeDir, ADMISSION_STRIKES_FILE, json(strikes))
    }
    return new AdmissionGuard(openSync(path, 'w', 0o600), storeDir, refused)
  }

  /** A guard that marks nothing and refuses no one (a runtime without a data directory of its own). */
  static disabled(): AdmissionGuard {
    return new AdmissionGuard(null, null, { peers: {}, agents: {} })
  }

  /** Why admissions from `peer` or of `agentId` are refused at the door, or null. */
  refusal(who: { peer?: string, agentId?: string }): string | null {
    if (who.peer !== undefined && Object.hasOwn(this.refused.peers, who.peer)) return (this.refused.peers[who.peer] as AdmissionRefusal).reason
    if (who.agentId !== undefined && Object.hasOwn(this.refused.agents, who.agentId)) return (this.refused.agents[who.agentId] as AdmissionRefusal).reason
    return null
  }

  /** Everything refused at the door, for `status` and `/metrics`. */
  list(): AdmissionRefusal[] {
    return [...Object.values(this.refused.peers), ...Object.values(this.refused.agents)]
  }

  /** `igord release <id or peer>`: admissions from it are welcome again (true when something was refused). */
  async release(id: string): Promise<boolean> {
    const had = Object.hasOwn(this.refused.peers, id) || Object.hasOwn(this.refused.agents, id)
    if (!had || this.dir === null) return had
    delete this.refused.peers[id]
    delete this.refused.agents[id]
    await writeFileAtomic(this.dir, ADMISSION_REFUSALS_FILE, json(this.refused))
    return true
  }

  /** Marks an admission from `peer` as in progress until `end()`. */
  begin(peer: string): AdmissionInProgress {
    const slot = this.free.pop() ?? this.next++
    const bytes = Buffer.alloc(SLOT_BYTES)
    bytes[0] = 1
    bytes[1] = bytes.write(peer.slice(0, MAX_PEER_LENGTH), 2, 'latin1')
    this.write(bytes, slot * SLOT_BYTES)
    let open = true
    return {
      agent: (agentId: string): void => {
        if (!open) return
        const id = Buffer.alloc(1 + MAX_AGENT_ID_LENGTH)
        id[0] = id.write(agentId.slice(0, MAX_AGENT_ID_LENGTH), 1, 'latin1')
        this.write(id, slot * SLOT_BYTES + PEER_END)
        if (this.abortId !== null && this.abortId === agentId) process.kill(process.pid, 'SIGKILL')
      },
      end: (): void => {
        if (!open) return
        open = false
        this.write(Buffer.alloc(SLOT_BYTES), slot * SLOT_BYTES)
        this.free.push(slot)
      }
    }
  }

  /** Clean shutdown: no admission in progress counts against anyone. */
  close(): void {
    if (this.fd === null) return
    const fd = this.fd
    this.fd = null
    try {
      ftruncateSync(fd, 0)
    } catch {
      // slots of ended admissions are 0, which means the same
    }
    closeSync(fd)
  }

  private write(bytes: Buffer, position: number): void {
    if (this.fd === null) return
    try {
      writeSync(this.fd, bytes, 0, bytes.byteLength, position)
    } catch {
      // Evidence for the next start, never a reason to refuse this admission.
    }
  }
}

/** The admissions a marker file says were in progress. */
export function parseSlots(bytes: Buffer): DiedAdmitting[] {
  const died: DiedAdmitting[] = []
  for (let offset = 0; offset + SLOT_BYTES <= bytes.byteLength; offset += SLOT_BYTES) {
    if (bytes[offset] !== 1) continue
    const peerLength = bytes[offset + 1] as number
    if (peerLength === 0 || peerLength > MAX_PEER_LENGTH) continue
    const idLength = bytes[offset + PEER_END] as number
    died.push({
      peer: bytes.toString('latin1', offset + 2, offset + 2 + peerLength),
      agentId: idLength === 0 || idLength > MAX_AGENT_ID_LENGTH ? null : bytes.toString('latin1', offset + PEER_END + 1, offset + PEER_END + 1 + idLength)
    })
  }
  return died
}

/** For tests and docs: the limit, shared with §11's agent quarantine. */
export const ADMISSION_DEATHS_LIMIT = QUARANTINE_AFTER_STARTS

function unique(ids: readonly string[]): Array<{ agentId: string, call: 'loading' }> {
  return [...new Set(ids)].map((agentId) => ({ agentId, call: 'loading' }))
}

function readIfExists(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch {
    return Buffer.alloc(0)
  }
}

async function readJson<T extends object>(dir: string, name: string, fallback: T): Promise<T> {
  try {
    const value = JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...fallback, ...value } : fallback
  } catch {
    // Missing or damaged: counting starts again, which can only delay a refusal, never cause one.
    return fallback
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value)}\n`, 'utf8')
}
