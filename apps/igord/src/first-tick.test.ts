// Issue 21 item 5: the daemon's wait for the node's first tick never blocks a node whose agents do not tick.
import type { RuntimeObserver } from '@igor/runner'
import { describe, expect, it } from 'vitest'
import { FirstTick } from './first-tick.js'

function fake(): { observers: RuntimeObserver[], observe: (o: RuntimeObserver) => () => void } {
  const observers: RuntimeObserver[] = []
  return { observers, observe: (o) => { observers.push(o); return () => { observers.splice(observers.indexOf(o), 1) } } }
}

describe('FirstTick', () => {
  it('waits for a tick while an agent is ticking, then stops observing', async () => {
    const { observers, observe } = fake()
    const gate = new FirstTick(observe)
    let done = false
    const waiting = gate.wait(() => true, 60_000).then(() => { done = true })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(done).toBe(false)
    observers[0]?.onTick?.('a', 1n)
    await waiting
    expect(observers).toHaveLength(0)
  })

  it('answers at once for a tick seen before the wait', async () => {
    const { observers, observe } = fake()
    const gate = new FirstTick(observe)
    observers[0]?.onTick?.('a', 1n)
    await gate.wait(() => true, 60_000)
  })

  it('answers at once when no agent is ticking', async () => {
    const { observe } = fake()
    await new FirstTick(observe).wait(() => false, 60_000)
  })

  it('answers after the cap when the ticking agents never complete a tick', async () => {
    const { observers, observe } = fake()
    await new FirstTick(observe).wait(() => true, 30)
    expect(observers).toHaveLength(0)
  })
})
