import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CallMarker, MARKER_FILE } from '@igor/sandbox'
import { QUARANTINE_AFTER_STARTS, countStrikes } from './quarantine.js'

let dir: string
/** What the next process would read had this one been killed now (read from a copy: open() truncates). */
function diedIfKilledNow(): ReturnType<typeof CallMarker.open>['died'] {
  const copy = mkdtempSync(join(tmpdir(), 'igor-marker-copy-'))
  try {
    copyFileSync(join(dir, MARKER_FILE), join(copy, MARKER_FILE))
    return CallMarker.open(copy).died
  } finally {
    rmSync(copy, { recursive: true, force: true })
  }
}
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'igor-marker-')) })
afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

describe('CallMarker (SPEC §11)', () => {
  it('a process that "dies" with calls marked leaves them for the next open; leave and release clear them', () => {
    const { marker, died } = CallMarker.open(dir)
    expect(died).toEqual([])
    marker.enter('a', 'agent_tick')
    const before = marker.enter('b', 'loading')
    marker.enter('b', 'agent_checkpoint') // nested in loading
    marker.leave('b', 1) // back to loading
    marker.enter('c', 'agent_tick')
    marker.release('c')
    marker.enter('d', 'agent_tick')
    marker.leave('d', before)
    // No close(): as if the process was killed here.
    expect(CallMarker.open(dir).died).toEqual([{ agentId: 'a', call: 'agent_tick' }, { agentId: 'b', call: 'loading' }])
  })

  it('a clean close leaves nothing to count', () => {
    const { marker } = CallMarker.open(dir)
    marker.enter('a', 'agent_tick')
    marker.close()
    expect(statSync(join(dir, MARKER_FILE)).size).toBe(0)
    expect(CallMarker.open(dir).died).toEqual([])
  })

  it('after silence() (shutdown began) nothing is marked: a kill -9 during the final checkpoints counts for no agent', () => {
    const { marker } = CallMarker.open(dir)
    marker.enter('a', 'agent_tick')
    marker.silence()
    marker.enter('b', 'agent_checkpoint')
    expect(CallMarker.open(dir).died).toEqual([])
  })

  it('alone(): the window opens after the other agents\' calls in flight return, holds their new calls, and a death inside it names the suspect alone', async () => {
    const { marker } = CallMarker.open(dir)
    const events: string[] = []
    let finishTick = (): void => undefined
    const tick = marker.around('counter', 'agent_tick', async () => new Promise<void>((resolve) => { finishTick = resolve }))
    let died: ReturnType<typeof CallMarker.open>['died'] | null = null
    const window = marker.alone('survivor', async () => {
      events.push('window open')
      await marker.around('survivor', 'loading', async () => {
        // The suspect's own calls pass; the neighbour's new call waits for the window.
        const next = marker.around('counter', 'agent_tick', () => Promise.resolve(events.push('counter ticks again')))
        await new Promise((resolve) => setTimeout(resolve, 20))
        died = diedIfKilledNow()
        events.push('survivor loaded')
        return { next }
      })
      return 'settled'
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(events).toEqual([]) // counter's tick is still in flight
    finishTick()
    await tick
    expect(await window).toBe('settled')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(events).toEqual(['window open', 'survivor loaded', 'counter ticks again'])
    expect(died).toEqual([{ agentId: 'survivor', call: 'loading' }])
  })

  it('alone(): one window at a time; silence() (shutdown) lets held calls through', async () => {
    const { marker } = CallMarker.open(dir)
    const order: string[] = []
    let release = (): void => undefined
    const first = marker.alone('a', async () => { order.push('a open'); await new Promise<void>((resolve) => { release = resolve }); order.push('a close') })
    const second = marker.alone('b', () => Promise.resolve(order.push('b open')))
    const held = marker.around('c', 'agent_checkpoint', () => Promise.resolve(order.push('c checkpoint')))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(order).toEqual(['a open'])
    marker.silence()
    await Promise.all([held, second])
    expect(order).toEqual(['a open', 'b open', 'c checkpoint'])
    release()
    await first
    expect(order).toEqual(['a open', 'b open', 'c checkpoint', 'a close'])
  })

  it('alone(): the window closes after maxMs even while the suspect is still loading; held calls then run', async () => {
    const { marker } = CallMarker.open(dir)
    let finishLoad = (): void => undefined
    const window = marker.alone('slow', async () => marker.around('slow', 'loading', async () => new Promise<void>((resolve) => { finishLoad = resolve })), 30)
    let ticked = false
    await marker.around('counter', 'agent_tick', () => Promise.resolve(ticked = true))
    expect(ticked).toBe(true) // held until the 30 ms cap, not until the load ends
    finishLoad()
    await window
    // The next window opens at once.
    expect(await marker.alone('next', () => Promise.resolve('open'), 30)).toBe('open')
  })

  it('the longest agent id fits its slot', () => {
    const id = 'x'.repeat(128)
    const { marker } = CallMarker.open(dir)
    marker.enter(id, 'agent_checkpoint')
    expect(readFileSync(join(dir, MARKER_FILE)).byteLength).toBe(136)
    expect(CallMarker.open(dir).died).toEqual([{ agentId: id, call: 'agent_checkpoint' }])
  })
})

describe('countStrikes: quarantine only after consecutive deaths in the same agent', () => {
  it(`quarantines at the ${QUARANTINE_AFTER_STARTS}rd consecutive death, not before`, () => {
    let strikes = {}
    for (let start = 1; start < QUARANTINE_AFTER_STARTS; start++) {
      const next = countStrikes(strikes, [{ agentId: 'bad', call: 'agent_tick' }])
      expect(next.quarantine).toEqual([])
      strikes = next.strikes
    }
    expect(countStrikes(strikes, [{ agentId: 'bad', call: 'agent_tick' }]).quarantine).toEqual([{ agentId: 'bad', call: 'agent_tick', starts: QUARANTINE_AFTER_STARTS }])
  })

  it('a start whose previous process died outside the agent\'s calls (or stopped cleanly) resets its count', () => {
    const two = countStrikes(countStrikes({}, [{ agentId: 'a', call: 'loading' }]).strikes, [{ agentId: 'a', call: 'loading' }]).strikes
    expect(two).toEqual({ a: { call: 'loading', starts: 2 } })
    expect(countStrikes(two, []).strikes).toEqual({})
    expect(countStrikes(two, [{ agentId: 'other', call: 'agent_tick' }]).strikes).toEqual({ other: { call: 'agent_tick', starts: 1 } })
  })
})
