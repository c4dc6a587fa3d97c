// SPEC §11 "a call is inside from the moment the worker starts it": in a shared
// worker, a call queued behind a neighbour's long call is not marked until the
// worker starts it (issue 17 finding 4: containment blamed the queue).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { startWatSandbox } from '../pool/sandbox.test-helper.js'
import { workerPool } from '../pool/worker-pool.js'
import { agentWat } from '@igor/test-kit'
import { CallMarker, MARKER_FILE, markCalls } from './call-marker.js'

const COUNTER = agentWat({ omit: ['agent_tick'], extra: '(func (export "agent_tick") (result i32) (i64.store (i32.const 0) (i64.add (i64.load (i32.const 0)) (i64.const 1))) (i32.const 0))' })
// A tick of a few hundred milliseconds that ends by itself.
const LONG = agentWat({
  omit: ['agent_tick'],
  extra: '(func (export "agent_tick") (result i32) (local $n i32) (local.set $n (i32.const 600000000)) (loop $l (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l (local.get $n))) (i32.const 0))'
})

let dir: string
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'igor-worker-marks-')) })
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true })
  await workerPool.close()
})

/** The worker clears a call's mark just after it posts the reply: wait (bounded) for those clears. */
async function settled(marker: CallMarker, ...agentIds: string[]): Promise<void> {
  for (let i = 0; i < 2000 && !agentIds.every((id) => marker.settled(id)); i++) await new Promise((resolve) => setTimeout(resolve, 1))
  expect(agentIds.every((id) => marker.settled(id))).toBe(true)
}

function diedIfKilledNow(): ReturnType<typeof CallMarker.open>['died'] {
  const copy = mkdtempSync(join(tmpdir(), 'igor-marker-copy-'))
  try {
    copyFileSync(join(dir, MARKER_FILE), join(copy, MARKER_FILE))
    return CallMarker.open(copy).died
  } finally {
    rmSync(copy, { recursive: true, force: true })
  }
}

it('a tick queued behind a neighbour\'s long tick in a shared worker is not marked until the worker starts it', async () => {
  const { marker } = CallMarker.open(dir)
  const long = markCalls((await startWatSandbox(LONG, { agentId: 'hog', agentsPerWorker: 4, limits: { tickTimeoutMs: 30_000 } })).box, 'hog', marker)
  const queued = markCalls((await startWatSandbox(COUNTER, { agentId: 'innocent', agentsPerWorker: 4 })).box, 'innocent', marker)
  expect(queued.threadId).toBe(long.threadId)
  try {
    const hogTick = long.tick(1000n)
    const innocentTick = queued.tick(1000n)
    // Wait until the worker runs the hog's tick, then look at what a death now would leave.
    for (let i = 0; i < 500 && !long.running; i++) await new Promise((resolve) => setTimeout(resolve, 2))
    expect(long.running).toBe(true)
    expect(diedIfKilledNow()).toEqual([{ agentId: 'hog', call: 'agent_tick' }])
    await Promise.all([hogTick, innocentTick])
    await settled(marker, 'hog', 'innocent')
    expect(diedIfKilledNow()).toEqual([])
    // A checkpoint is marked by the worker too, and cleared after it.
    await queued.checkpoint()
    await settled(marker, 'innocent')
    expect(diedIfKilledNow()).toEqual([])
  } finally {
    await long.terminate()
    await queued.terminate()
    marker.close()
  }
})

it('the marks reach the worker once and still mark every later tick and checkpoint', async () => {
  const { marker } = CallMarker.open(dir)
  const long = markCalls((await startWatSandbox(LONG, { agentId: 'hog', limits: { tickTimeoutMs: 30_000 } })).box, 'hog', marker)
  try {
    for (let round = 1; round <= 3; round++) {
      // Rounds 2 and 3 carry no marks in the request: the worker kept them from round 1.
      const tick = long.tick(1000n)
      for (let i = 0; i < 500 && !long.running; i++) await new Promise((resolve) => setTimeout(resolve, 2))
      expect(long.running).toBe(true)
      expect(diedIfKilledNow()).toEqual([{ agentId: 'hog', call: 'agent_tick' }])
      await tick
      await settled(marker, 'hog')
      expect(diedIfKilledNow()).toEqual([])
      await long.checkpoint()
      await settled(marker, 'hog')
      expect(diedIfKilledNow()).toEqual([])
    }
  } finally {
    await long.terminate()
    marker.close()
  }
})
