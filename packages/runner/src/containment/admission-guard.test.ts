import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '@igor/sandbox'
import { ADMISSION_MARKER_FILE, ADMISSION_REFUSALS_FILE, AdmissionGuard, admissionRefusalReason, parseSlots } from './admission-guard.js'

let dir: string
let store: string
const PEER = '12D3KooWHostilePeerHostilePeerHostilePeerHostilePeer'
const open = async (): Promise<AdmissionGuard> => AdmissionGuard.open(dir, store, () => 42n, silentLogger)
const inFlight = (): ReturnType<typeof parseSlots> => parseSlots(readFileSync(join(dir, ADMISSION_MARKER_FILE)))

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'igor-admission-'))
  store = join(dir, 'checkpoints')
  mkdirSync(store)
})
afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

describe('AdmissionGuard (SPEC §7 "What a peer can and cannot do", §11)', () => {
  it('marks an admission with its peer, then its agent id, and clears it when it ends', async () => {
    const guard = await open()
    const first = guard.begin(PEER)
    const second = guard.begin('peer-b')
    expect(inFlight()).toEqual([{ peer: PEER, agentId: null }, { peer: 'peer-b', agentId: null }])
    first.agent('agent-x')
    expect(inFlight()).toEqual([{ peer: PEER, agentId: 'agent-x' }, { peer: 'peer-b', agentId: null }])
    first.end()
    first.end() // twice is harmless
    expect(inFlight()).toEqual([{ peer: 'peer-b', agentId: null }])
    const third = guard.begin('peer-c') // reuses the free slot
    expect(inFlight()).toEqual([{ peer: 'peer-c', agentId: null }, { peer: 'peer-b', agentId: null }])
    second.end()
    third.end()
    expect(inFlight()).toEqual([])
  })

  it('three consecutive deaths while admitting refuse the peer and the agent id at the door; a clean start in between resets', async () => {
    /** `guard`'s process dies admitting a package; the next process opens. */
    const dieAdmitting = async (guard: AdmissionGuard, peer: string, agentId: string | null): Promise<AdmissionGuard> => {
      const mark = guard.begin(peer)
      if (agentId !== null) mark.agent(agentId)
      // No end(), no close(): the process died here.
      return open()
    }
    let guard = await open()
    guard = await dieAdmitting(guard, PEER, 'agent-x')
    guard = await dieAdmitting(guard, PEER, 'agent-x')
    expect(guard.refusal({ peer: PEER })).toBeNull()
    guard.close() // a clean stop: the count starts again
    guard = await open()
    guard = await dieAdmitting(guard, PEER, 'agent-x')
    guard = await dieAdmitting(guard, PEER, 'agent-x')
    expect(guard.refusal({ peer: PEER })).toBeNull()
    guard = await dieAdmitting(guard, PEER, null) // died before the package named its agent: counts against the peer only
    expect(guard.refusal({ peer: PEER })).toBe(admissionRefusalReason('peer', PEER, 3))
    expect(guard.refusal({ agentId: 'agent-x' })).toBeNull()
    expect(guard.refusal({ peer: 'someone-else', agentId: 'agent-y' })).toBeNull()
    expect(guard.list()).toEqual([{ kind: 'peer', id: PEER, deaths: 3, sinceNs: '42', reason: admissionRefusalReason('peer', PEER, 3) }])
    // Durable: a later start still refuses, until released.
    guard.close()
    guard = await open()
    expect(guard.refusal({ peer: PEER })).toMatch(/^refused at the door: the node died while admitting packages from peer 12D3KooW\w+ on 3 consecutive starts/)
    expect(await guard.release(PEER)).toBe(true)
    expect(guard.refusal({ peer: PEER })).toBeNull()
    expect(JSON.parse(readFileSync(join(store, ADMISSION_REFUSALS_FILE), 'utf8'))).toEqual({ peers: {}, agents: {} })
    expect(await guard.release(PEER)).toBe(false)
  })

  it('an agent id is refused after 3 deaths whichever peers sent it', async () => {
    let guard = await open()
    for (const peer of ['p1', 'p2', 'p3']) {
      guard.begin(peer).agent('agent-z')
      guard = await open()
    }
    expect(guard.refusal({ agentId: 'agent-z' })).toBe(admissionRefusalReason('agent', 'agent-z', 3))
    expect(guard.refusal({ peer: 'p3' })).toBeNull()
  })

  it('a disabled guard marks nothing and refuses no one', () => {
    const guard = AdmissionGuard.disabled()
    guard.begin('p').agent('a')
    expect(guard.refusal({ peer: 'p', agentId: 'a' })).toBeNull()
    expect(guard.list()).toEqual([])
  })
})
