// Timing helpers shared by every suite. Median ns per operation, measured with
// process.hrtime.bigint, after a warm-up so the JIT has settled.

/** Results land here so the optimiser cannot drop a call whose value is unused. */
export let sink

// Samples of ~4 ms amortise GC over many calls, so allocation-heavy code pays its
// real cost in every sample instead of in a few outliers the median would hide.
const DEFAULTS = { minTimeMs: 400, minIterations: 15, warmupMs: 60, targetSampleNs: 4e6 }

function median(sorted) {
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function shuffled(items) {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function'
}

/** Runs `fn` `batch` times; returns elapsed ns. Awaits only when `fn` is async. */
async function timeBatch(fn, batch, async) {
  const start = process.hrtime.bigint()
  if (async) for (let i = 0; i < batch; i++) sink = await fn()
  else for (let i = 0; i < batch; i++) sink = fn()
  return Number(process.hrtime.bigint() - start)
}

/**
 * Measures several functions interleaved sample by sample (rounds of a, b in random order) so
 * that drift — GC pressure, CPU frequency, a noisy neighbour — hits them
 * alike. That makes ratios between them trustworthy in one run.
 *
 * @param {Record<string, () => unknown>} fns
 * @param {{ minTimeMs?: number, minIterations?: number, warmupMs?: number, targetSampleNs?: number }} [options]
 *   minTimeMs: total sampling time per function; minIterations: minimum samples per function;
 *   targetSampleNs: fast functions are batched so that one sample lasts about this long.
 * @returns {Promise<Record<string, { medianNs: number, meanNs: number, minNs: number, samples: number, batch: number, times: number[] }>>}
 *   `times` holds ns/op per sample in round order: index i of every function comes from the same round
 *   (see `pairedRatio`).
 */
export async function measureAll(fns, options = {}) {
  const { minTimeMs, minIterations, warmupMs, targetSampleNs } = { ...DEFAULTS, ...options }
  const plans = []
  for (const [name, fn] of Object.entries(fns)) {
    // The probing call is awaited, so an async function that cannot overlap with itself is never run twice at once.
    const probe = fn()
    const async = isThenable(probe)
    if (async) await probe
    // Warm-up, which also estimates the cost of one call to size the batches.
    let calls = 0
    let elapsed = 0
    const warmupNs = warmupMs * 1e6
    while (elapsed < warmupNs || calls < 3) {
      elapsed += await timeBatch(fn, 1, async)
      calls++
    }
    const perCall = Math.max(elapsed / calls, 1)
    plans.push({ name, fn, async, batch: Math.max(1, Math.round(targetSampleNs / perCall)), times: [], spentNs: 0 })
  }
  const minNs = minTimeMs * 1e6
  while (plans.some((p) => p.spentNs < minNs || p.times.length < minIterations)) {
    // A fresh random order each round, so a GC that recurs every N allocations
    // cannot lock onto the same function's samples.
    for (const plan of shuffled(plans)) {
      const ns = await timeBatch(plan.fn, plan.batch, plan.async)
      plan.spentNs += ns
      plan.times.push(ns / plan.batch)
    }
  }
  const results = {}
  for (const plan of plans) {
    const sorted = [...plan.times].sort((a, b) => a - b)
    results[plan.name] = {
      medianNs: median(sorted),
      meanNs: sorted.reduce((sum, t) => sum + t, 0) / sorted.length,
      minNs: sorted[0],
      samples: sorted.length,
      batch: plan.batch,
      times: plan.times
    }
  }
  return results
}

/**
 * Median over rounds of `subject[i] / baseline[i]` for two results of one
 * `measureAll` call. Each round's pair ran back to back, so slow drift (load
 * from other processes, memory pressure) cancels out of every ratio.
 */
export function pairedRatio(subject, baseline) {
  const n = Math.min(subject.times.length, baseline.times.length)
  const ratios = []
  for (let i = 0; i < n; i++) ratios.push(subject.times[i] / baseline.times[i])
  return median(ratios.sort((a, b) => a - b))
}

/** One function: median ns per call (plus mean, min, sample count). */
export async function measure(fn, options = {}) {
  return (await measureAll({ fn }, options)).fn
}

/**
 * A result row for the harness: `value` measured in `unit`, optionally
 * compared with a baseline (`ratio = value / baseline`, or an explicit
 * `ratio`, e.g. from `pairedRatio`) against a ceiling `maxRatio`.
 */
export function entry(name, value, unit, { baseline = null, ratio: given = null, maxRatio = null, note } = {}) {
  const ratio = given !== null ? given : baseline === null ? null : value / baseline
  const row = {
    name,
    value,
    unit,
    ratio,
    target: maxRatio === null ? null : `≤ ${maxRatio}×`,
    ok: maxRatio === null || ratio === null ? null : ratio <= maxRatio
  }
  if (note !== undefined) row.note = note
  return row
}
