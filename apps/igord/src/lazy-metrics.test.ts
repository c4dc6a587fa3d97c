// SPEC §14 metrics / issue 21 item 5: events before prom-client loads are counted once it has.
import type { RuntimeObserver } from '@igor/runner'
import type { MigrationObserver } from '@igor/migration/observer'
import { describe, expect, it } from 'vitest'
import { LazyMetrics, type MetricSources } from './lazy-metrics.js'
import type { MetricSink } from './metric-buffer.js'
import { NodeMetrics } from './metrics.js'

const sources: MetricSources = {
  status: () => Promise.resolve([]),
  refusedAtDoor: () => [],
  price: () => 1000n,
  settlement: () => null
}

/** Observers the test fires by hand (the runner's and the migration package's emitters are internal). */
function fakeObservers(): { runtime: RuntimeObserver[], migration: MigrationObserver[], observers: ConstructorParameters<typeof LazyMetrics>[1] } {
  const runtime: RuntimeObserver[] = []
  const migration: MigrationObserver[] = []
  return {
    runtime,
    migration,
    observers: {
      observeRuntime: (o) => { runtime.push(o); return () => { runtime.splice(runtime.indexOf(o), 1) } },
      observeMigrations: (o) => { migration.push(o); return () => { migration.splice(migration.indexOf(o), 1) } }
    }
  }
}

/** A start's worth of events, fired through the observers (as the node sees them) or straight into a sink. */
const TICKS_NS = [0n, 1n, 12_345n, 999_999n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 64n - 1n]
function fireAll(runtime: RuntimeObserver, migration: MigrationObserver, lazy: LazyMetrics): void {
  for (const ns of TICKS_NS) runtime.onTick?.('a', ns)
  runtime.onCheckpoint?.('a', 300, 1.25)
  runtime.onCheckpoint?.('a', 1 << 20, 17.5)
  runtime.onRenewal?.('a')
  runtime.onEviction?.('a')
  runtime.onHalt?.('a', 'budget exhausted at tick 9')
  runtime.onHalt?.('a', 'retired: moved to peer X') // not a halt
  runtime.onHalt?.('b', 'lease expired')
  migration.onSendStart?.('a', 1000)
  migration.onSendProgress?.('a', 400, 1000)
  migration.onSendProgress?.('a', 1000, 1000)
  migration.onReceived?.(777)
  migration.onArrival?.('c', null)
  migration.onArrival?.('d', 'BAD_SIGNATURE')
  lazy.recordAutoPlacement('request_move', 'placed')
  lazy.recordAutoPlacement('price', 'no-candidates')
  lazy.recordMigration('completed', 155)
}
function sinkAll(sink: MetricSink): void {
  for (const ns of TICKS_NS) sink.tick(Number(ns))
  sink.checkpoint(300, 1.25)
  sink.checkpoint(1 << 20, 17.5)
  sink.renewal()
  sink.eviction()
  sink.halt('budget exhausted at tick 9')
  sink.halt('retired: moved to peer X')
  sink.halt('lease expired')
  sink.sendStart('a')
  sink.sendProgress('a', 400, 1000)
  sink.sendProgress('a', 1000, 1000)
  sink.received(777)
  sink.arrival('c', null)
  sink.arrival('d', 'BAD_SIGNATURE')
  sink.autoPlacement('request_move', 'placed')
  sink.autoPlacement('price', 'no-candidates')
  sink.migration('completed', 155)
}

/** The igor_* series only (process_* and nodejs_* differ between registries by nature). */
const igorSeries = (text: string): string => text.split('\n').filter((l) => /^(# (HELP|TYPE) )?igor_/.test(l)).join('\n')
const sample = (text: string, name: string): number => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.slice(name.length + 1))

describe('LazyMetrics', () => {
  it('counts events that happen before the registry exists, exactly as a registry that saw them live', async () => {
    const { runtime, migration, observers } = fakeObservers()
    const lazy = new LazyMetrics(sources, observers)
    fireAll(runtime[0] as RuntimeObserver, migration[0] as MigrationObserver, lazy)
    expect(lazy.loaded).toBe(false)
    await lazy.load()
    expect(lazy.loaded).toBe(true)
    const live = new NodeMetrics(sources.status, sources.refusedAtDoor, sources.price, sources.settlement)
    sinkAll(live)
    const text = (await lazy.scrape()).text
    expect(igorSeries(text)).toBe(igorSeries(await live.text()))
    expect(sample(text, 'igor_ticks_total')).toBe(TICKS_NS.length)
    expect(sample(text, 'igor_checkpoint_bytes_count')).toBe(2)
    expect(sample(text, 'igor_halts_total{reason="budget_exhausted"}')).toBe(1)
    expect(sample(text, 'igor_transfer_bytes_total{direction="out"}')).toBe(1000)
    lazy.close()
  })

  it('a scrape before the registry has loaded waits for it and has every series', async () => {
    const { runtime, observers } = fakeObservers()
    const lazy = new LazyMetrics(sources, observers)
    runtime[0]?.onTick?.('a', 5000n)
    const { text, contentType } = await lazy.scrape()
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(sample(text, 'igor_ticks_total')).toBe(1)
    expect(sample(text, 'igor_tick_duration_seconds_count')).toBe(1)
    expect(text).toMatch(/^igor_build_info\{/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m)
    lazy.close()
  })

  it('events after the load go straight to the registry; events in flight while it loads are kept', async () => {
    const { runtime, observers } = fakeObservers()
    const lazy = new LazyMetrics(sources, observers)
    runtime[0]?.onTick?.('a', 1n)
    const loading = lazy.load()
    runtime[0]?.onTick?.('a', 2n) // after load() was called, before the import resolved
    await loading
    runtime[0]?.onTick?.('a', 3n)
    expect(sample((await lazy.scrape()).text, 'igor_ticks_total')).toBe(3)
    lazy.close()
  })

  it('loads by itself once the held events reach the limit', async () => {
    const { runtime, observers } = fakeObservers()
    const lazy = new LazyMetrics(sources, observers, 3)
    runtime[0]?.onTick?.('a', 1n)
    runtime[0]?.onTick?.('a', 2n)
    expect(lazy.loaded).toBe(false)
    runtime[0]?.onTick?.('a', 3n)
    await lazy.load() // the same load, already under way
    expect(sample((await lazy.scrape()).text, 'igor_ticks_total')).toBe(3)
    lazy.close()
  })

  it('close unsubscribes from both observers', () => {
    const { runtime, migration, observers } = fakeObservers()
    const lazy = new LazyMetrics(sources, observers)
    expect([runtime.length, migration.length]).toEqual([1, 1])
    lazy.close()
    expect([runtime.length, migration.length]).toEqual([0, 0])
  })
})
