import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type AgentCall, CallMarker, type DiedInCall, type Logger, describeCall } from '@igor/sandbox'
import type { CheckpointStore, QuarantineRecord } from '../store/index.js'
import { writeFileAtomic } from '../store/atomic-write.js'

/**
 * SPEC §11: an agent is quarantined when the node process died inside that
 * agent's call (or while loading it) on this many consecutive starts.
 *
 * Why 3 keeps an operator's kill -9 of healthy agents safe: a healthy agent
 * spends a tiny fraction f of the time inside a call (a tick of tens of µs
 * each second, a checkpoint every 5 s: f ≈ 1e-4). A kill at a random moment
 * lands inside that agent's call with probability ≈ f, so three kills in a row
 * all landing inside the same agent's calls has probability ≈ f³ ≈ 1e-12, and
 * any start whose previous process ended cleanly, or died outside that agent's
 * calls, resets its count. An agent that really kills the node does it on every
 * start, so it is stopped after three deaths and the node comes up with the others.
 */
export const QUARANTINE_AFTER_STARTS = 3

/** File (in the checkpoint directory) with the consecutive deaths counted so far. */
export const STRIKES_FILE = 'crash-strikes.json'

export interface Strike { readonly call: AgentCall, readonly starts: number }

/**
 * The rule, without I/O: the previous counts and the calls the last process
 * died in give the new counts and the agents to quarantine now. An agent not
 * in `died` drops to 0 (the deaths must be consecutive).
 */
export function countStrikes(previous: Readonly<Record<string, Strike>>, died: readonly DiedInCall[], after = QUARANTINE_AFTER_STARTS): { strikes: Record<string, Strike>, quarantine: Array<{ agentId: string, call: AgentCall, starts: number }> } {
  const strikes: Record<string, Strike> = {}
  const quarantine: Array<{ agentId: string, call: AgentCall, starts: number }> = []
  for (const { agentId, call } of died) {
    const starts = (previous[agentId]?.starts ?? 0) + 1
    if (starts >= after) quarantine.push({ agentId, call, starts })
    else strikes[agentId] = { call, starts }
  }
  return { strikes, quarantine }
}

export function quarantineReason(record: Pick<QuarantineRecord, 'call' | 'starts'>): string {
  return `quarantined: node died while ${describeCall(record.call as AgentCall)} on ${record.starts} consecutive starts; release with \`igord release\``
}

/**
 * At node start, before any agent loads: reads the call marker the previous
 * process left, updates the consecutive-death counts (durable), writes a
 * quarantine record for every agent that reached the limit, and opens a fresh
 * marker for this process. `suspects`: the agents the last death was counted
 * against and not quarantined; they load last and alone (`NodeRuntime`).
 */
export async function openContainment(dataDir: string, store: CheckpointStore, nowNs: () => bigint, log: Logger): Promise<{ marker: CallMarker, suspects: Set<string> }> {
  const { marker, died } = CallMarker.open(dataDir)
  const previous = await readStrikes(store)
  const { strikes, quarantine } = countStrikes(previous, died)
  for (const { agentId, call } of died) {
    log.warn({ agentId, call }, `the previous node process died while ${describeCall(call)} of agent ${agentId}`)
  }
  for (const { agentId, call, starts } of quarantine) {
    const record: QuarantineRecord = { agentId, call, starts, quarantinedAtNs: nowNs() }
    await store.writeQuarantine(record)
    log.error({ agentId, call, starts }, `agent ${agentId} ${quarantineReason(record)}`)
  }
  if (JSON.stringify(previous) !== JSON.stringify(strikes)) {
    await writeFileAtomic(store.dir, STRIKES_FILE, Buffer.from(`${JSON.stringify(strikes)}\n`, 'utf8'))
  }
  return { marker, suspects: new Set(Object.keys(strikes)) }
}

/** `igord release`: the agent's count starts again from 0. */
export async function clearStrikes(store: CheckpointStore, agentId: string): Promise<void> {
  const strikes = await readStrikes(store)
  if (!(agentId in strikes)) return
  delete strikes[agentId]
  await writeFileAtomic(store.dir, STRIKES_FILE, Buffer.from(`${JSON.stringify(strikes)}\n`, 'utf8'))
}

async function readStrikes(store: CheckpointStore): Promise<Record<string, Strike>> {
  try {
    const json = JSON.parse(await readFile(join(store.dir, STRIKES_FILE), 'utf8')) as unknown
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return {}
    return json as Record<string, Strike>
  } catch {
    // Missing or damaged: counting starts again, which can only delay a quarantine, never cause one.
    return {}
  }
}
