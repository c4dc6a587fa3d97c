import { describe, expect, it } from 'vitest'
// @ts-expect-error -- plain ESM helper shared with scripts/fuzz-modules.mjs
import { runSurvivalProperty } from '../fuzz/run-property.mjs'

interface Outcome { written: number, code: number | null, signal: string | null, summary: { modules: number, loaded: number, refused: number } | null, stderr: string }

describe('no module shape can abort the process (SPEC §11)', () => {
  it('generated and byte-mutated modules go through load and a few ticks in one process, which survives', async () => {
    const result = await (runSurvivalProperty as (o: { seed: number, runs: number }) => Promise<Outcome>)({ seed: 20261201, runs: 48 })
    expect(result.stderr).toBe('')
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null })
    expect(result.summary?.modules).toBe(result.written)
    expect(result.written).toBeGreaterThan(40)
    expect(result.summary!.loaded).toBeGreaterThan(0)
    expect(result.summary!.refused).toBeGreaterThan(0)
  }, 300_000)
})
