// Group commit of directory fsyncs (SPEC §5): an injected fsync whose calls the test finishes by hand.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { DirectorySyncGroup, directorySyncs, writeFileAtomic } from './index.js'

interface Call { readonly dir: string, finish: () => void, fail: (error: Error) => void }

/** An fsync that records each call and stays in flight until the test finishes it. */
function controlledFsync(): { calls: Call[], events: string[], fsync: (dir: string) => Promise<void> } {
  const calls: Call[] = []
  const events: string[] = []
  const fsync = async (dir: string): Promise<void> => new Promise<void>((resolve, reject) => {
    const n = calls.length + 1
    events.push(`start ${n}`)
    calls.push({ dir, finish: () => { events.push(`end ${n}`); resolve() }, fail: (e) => { events.push(`fail ${n}`); reject(e) } })
  })
  return { calls, events, fsync }
}

/** Lets queued microtasks and promise chains run. */
const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

/** Tracks when a promise settles, without awaiting it. */
function watch(events: string[], label: string, promise: Promise<void>): { done: () => boolean, error: () => unknown } {
  let done = false
  let error: unknown
  promise.then(() => { done = true; events.push(`${label} ok`) }, (e: unknown) => { done = true; error = e; events.push(`${label} failed`) })
  return { done: () => done, error: () => error }
}

describe('DirectorySyncGroup', () => {
  it('a writer on an idle directory starts an fsync at once; writers arriving while it runs share the next one', async () => {
    const { calls, events, fsync } = controlledFsync()
    const group = new DirectorySyncGroup(fsync)
    const a = watch(events, 'A', group.sync('/d'))
    await settle()
    expect(calls).toHaveLength(1)
    const b = watch(events, 'B', group.sync('/d'))
    const c = watch(events, 'C', group.sync('/d/'))
    await settle()
    expect(calls).toHaveLength(1) // B and C wait; nothing new starts while one is in flight
    calls[0]!.finish()
    await settle()
    expect(a.done()).toBe(true)
    expect(b.done()).toBe(false) // the fsync that finished started before B asked: it does not count for B
    expect(c.done()).toBe(false)
    expect(calls).toHaveLength(2) // the next starts when the one in flight ends
    calls[1]!.finish()
    await settle()
    expect(b.done() && c.done()).toBe(true)
    const at = (e: string): number => events.indexOf(e)
    expect(at('end 1')).toBeLessThan(at('A ok'))
    expect(at('end 1')).toBeLessThan(at('start 2'))
    expect(at('end 2')).toBeLessThan(at('B ok'))
    expect(at('end 2')).toBeLessThan(at('C ok'))
    expect(group.stats).toEqual({ started: 2, requested: 3 })
  })

  it('a rename after a started fsync waits for the next one, even when the first finishes right away', async () => {
    const { calls, events, fsync } = controlledFsync()
    const group = new DirectorySyncGroup(fsync)
    void group.sync('/d')
    await settle()
    // Started (in flight): a writer whose rename completes now asks.
    const late = watch(events, 'late', group.sync('/d'))
    calls[0]!.finish()
    await settle()
    expect(late.done()).toBe(false)
    expect(events.indexOf('start 2')).toBeGreaterThan(events.indexOf('end 1'))
    calls[1]!.finish()
    await settle()
    expect(late.done()).toBe(true)
  })

  it('an fsync that fails fails every writer sharing it, and only those; the next one starts afresh', async () => {
    const { calls, events, fsync } = controlledFsync()
    const group = new DirectorySyncGroup(fsync)
    const a = watch(events, 'A', group.sync('/d'))
    await settle()
    const b = watch(events, 'B', group.sync('/d'))
    const c = watch(events, 'C', group.sync('/d'))
    calls[0]!.finish()
    await settle()
    const eio = Object.assign(new Error('EIO'), { code: 'EIO' })
    calls[1]!.fail(eio)
    await settle()
    expect(a.error()).toBeUndefined()
    expect(b.error()).toBe(eio)
    expect(c.error()).toBe(eio)
    // Idle again: a new writer starts its own fsync, which may succeed.
    const d = watch(events, 'D', group.sync('/d'))
    await settle()
    expect(calls).toHaveLength(3)
    calls[2]!.finish()
    await settle()
    expect(d.done() && d.error() === undefined).toBe(true)
  })

  it('a failure of the first fsync does not stop the queued one', async () => {
    const { calls, events, fsync } = controlledFsync()
    const group = new DirectorySyncGroup(fsync)
    const a = watch(events, 'A', group.sync('/d'))
    await settle()
    const b = watch(events, 'B', group.sync('/d'))
    calls[0]!.fail(new Error('EIO'))
    await settle()
    expect(a.error()).toBeInstanceOf(Error)
    expect(calls).toHaveLength(2)
    calls[1]!.finish()
    await settle()
    expect(b.done() && b.error() === undefined).toBe(true)
  })

  it('a function that throws at once rejects its writers instead of throwing from sync', async () => {
    const group = new DirectorySyncGroup(() => { throw new Error('boom') })
    await expect(group.sync('/d')).rejects.toThrow('boom')
  })

  it('different directories do not share: each has its own fsync, concurrently', async () => {
    const { calls, fsync } = controlledFsync()
    const group = new DirectorySyncGroup(fsync)
    const x = group.sync('/x')
    const y = group.sync('/y')
    await settle()
    expect(calls.map((c) => c.dir).sort()).toEqual(['/x', '/y'])
    for (const call of calls) call.finish()
    await Promise.all([x, y])
    expect(group.stats.started).toBe(2)
  })

  it('a hundred writers arriving during one fsync cost one more fsync, not a hundred', async () => {
    const { calls, fsync } = controlledFsync()
    const group = new DirectorySyncGroup(fsync)
    const first = group.sync('/d')
    await settle()
    const rest = Array.from({ length: 100 }, async () => group.sync('/d'))
    calls[0]!.finish()
    await settle()
    calls[1]!.finish()
    await Promise.all([first, ...rest])
    expect(group.stats).toEqual({ started: 2, requested: 101 })
  })
})

describe('fsyncDirectory through writeFileAtomic', () => {
  it('concurrent atomic writes into one directory all land, with no more fsyncs than writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'igor-coalesce-'))
    try {
      const before = directorySyncs.stats
      await Promise.all(Array.from({ length: 20 }, async (_, i) => writeFileAtomic(dir, `f${i}`, new TextEncoder().encode(String(i)))))
      for (let i = 0; i < 20; i++) expect(await readFile(join(dir, `f${i}`), 'utf8')).toBe(String(i))
      const after = directorySyncs.stats
      expect(after.requested - before.requested).toBe(20)
      expect(after.started - before.started).toBeLessThanOrEqual(20)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('IGOR_NO_FSYNC_COALESCE=1 (benchmarks only)', () => {
  it('gives every caller of fsyncDirectory its own fsync, bypassing the group', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'igor-coalesce-'))
    vi.stubEnv('IGOR_NO_FSYNC_COALESCE', '1')
    vi.resetModules()
    try {
      const fresh = await import('./write.js')
      await Promise.all([fresh.fsyncDirectory(dir), fresh.fsyncDirectory(dir)])
      expect(fresh.directorySyncs.stats).toEqual({ started: 0, requested: 0 })
    } finally {
      vi.unstubAllEnvs()
      vi.resetModules()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
