import { describe, expect, it } from 'vitest'
import { LineAssembler, OUTPUT_LIMITS, OutputCaps } from './output-caps.js'
import type { OutputStream } from './output-caps.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

function caps() {
  const lines: Array<{ stream: OutputStream, line: string }> = []
  return { lines, caps: new OutputCaps((stream, line) => lines.push({ stream, line })) }
}

describe('output caps (SPEC §11)', () => {
  it('has the SPEC limits', () => {
    expect(OUTPUT_LIMITS).toEqual({ maxLinesPerCall: 64, maxBytesPerCall: 65536, maxLineBytes: 16384 })
  })

  it('passes 64 lines per call, drops the rest with one summary line, and resets per call', () => {
    const { lines, caps: c } = caps()
    for (let i = 0; i < 1000; i++) c.line('agent', bytes(`line ${i}`))
    expect(c.finish()).toEqual({ droppedLines: 936, droppedBytes: 936 * 0 + [...Array(936).keys()].reduce((n, i) => n + `line ${i + 64}`.length, 0) })
    expect(lines).toHaveLength(65)
    expect(lines[63]).toEqual({ stream: 'agent', line: 'line 63' })
    expect(lines[64]!.stream).toBe('sandbox')
    expect(lines[64]!.line).toMatch(/^agent output over the per-call cap \(64 lines, 65536 bytes\): dropped 936 lines, \d+ bytes$/)
    c.line('stdout', bytes('next call'))
    c.finish()
    expect(lines[65]).toEqual({ stream: 'stdout', line: 'next call' })
    expect(lines).toHaveLength(66)
  })

  it('caps bytes per call across streams', () => {
    const { lines, caps: c } = caps()
    const big = new Uint8Array(16 * 1024).fill(0x61)
    for (let i = 0; i < 5; i++) c.line(i % 2 === 0 ? 'stdout' : 'agent', big)
    c.finish()
    expect(lines.filter((l) => l.stream !== 'sandbox')).toHaveLength(4)
    expect(lines.at(-1)!.line).toMatch(/dropped 1 lines, 16384 bytes/)
  })

  it('cuts a single line at 16 KiB and says so', () => {
    const { lines, caps: c } = caps()
    c.line('agent', new Uint8Array(20_000).fill(0x62))
    c.finish()
    expect(lines).toHaveLength(1)
    expect(lines[0]!.line.startsWith('b'.repeat(16384) + ' … [line cut at 16384 of 20000 bytes]')).toBe(true)
  })

  it('drop() counts a refused line in the summary only', () => {
    const { lines, caps: c } = caps()
    c.drop(2_000_000)
    c.finish()
    expect(lines).toEqual([{ stream: 'sandbox', line: expect.stringMatching(/dropped 1 lines, 2000000 bytes/) }])
  })
})

describe('LineAssembler', () => {
  it('joins writes into lines and flushes a partial line', () => {
    const { lines, caps: c } = caps()
    const out = new LineAssembler('stdout', c)
    out.write(bytes('a'))
    out.write(bytes('b\n\nc'))
    out.flush()
    expect(lines.map((l) => l.line)).toEqual(['ab', '', 'c'])
  })

  it('keeps at most 16 KiB of an endless line in memory', () => {
    const { lines, caps: c } = caps()
    const out = new LineAssembler('stderr', c)
    const chunk = new Uint8Array(1024 * 1024).fill(0x7a)
    for (let i = 0; i < 8; i++) out.write(chunk)
    out.write(bytes('\n'))
    expect(lines).toHaveLength(1)
    expect(lines[0]!.line).toContain(`[line cut at 16384 of ${8 * 1024 * 1024} bytes]`)
  })
})
