import { describe, expect, it } from 'vitest'
import { LoadGate } from './load-gate.js'

function deferred(): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

describe('LoadGate (SPEC §11: a suspect loads alone)', () => {
  it('ordinary loads overlap; a suspect waits for them and runs with nothing beside it', async () => {
    const gate = new LoadGate()
    const running = new Set<string>()
    const seen: Array<[string, string[]]> = []
    const holds = new Map<string, ReturnType<typeof deferred>>()
    const load = (name: string, solo: boolean): Promise<void> => {
      const hold = deferred()
      holds.set(name, hold)
      return gate.run(solo, async () => {
        running.add(name)
        seen.push([name, [...running].sort()])
        await hold.promise
        running.delete(name)
      })
    }
    const a = load('a', false)
    const b = load('b', false)
    await Promise.resolve()
    const suspect = load('suspect', true)
    const c = load('c', false) // queued behind the waiting suspect
    await new Promise((r) => setTimeout(r, 5))
    expect([...running].sort()).toEqual(['a', 'b'])
    holds.get('a')!.resolve()
    holds.get('b')!.resolve()
    await Promise.all([a, b])
    await new Promise((r) => setTimeout(r, 5))
    expect([...running]).toEqual(['suspect'])
    holds.get('suspect')!.resolve()
    await suspect
    await new Promise((r) => setTimeout(r, 5))
    expect([...running]).toEqual(['c'])
    holds.get('c')!.resolve()
    await c
    expect(seen.find(([name]) => name === 'suspect')![1]).toEqual(['suspect'])
  })

  it('two suspects never run together, and a failing load releases the gate', async () => {
    const gate = new LoadGate()
    let inside = 0
    let most = 0
    const solo = async (fail: boolean): Promise<void> => gate.run(true, async () => {
      inside++
      most = Math.max(most, inside)
      await new Promise((r) => setTimeout(r, 2))
      inside--
      if (fail) throw new Error('trap')
    })
    const results = await Promise.allSettled([solo(true), solo(false), solo(false)])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
    expect(most).toBe(1)
  })
})
