import { describe, expect, it } from 'vitest'
import { GoPcg } from './pcg.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

describe('GoPcg (Go math/rand/v2 NewPCG, DXSM)', () => {
  it('SPEC §12 vector: seed 42 starts ad 30 32 f7 09 52 71 da (one Uint64 per byte, bits 32–39)', () => {
    const bytes = new Uint8Array(8)
    new GoPcg(42n, 42n).fillBytes(bytes)
    expect(hex(bytes)).toBe('ad3032f7095271da')
  })

  it('is a pure function of the seed: the same seed gives the same stream, split across calls or not', () => {
    const whole = new Uint8Array(64)
    new GoPcg(7n, 7n).fillBytes(whole)
    const split = new GoPcg(7n, 7n)
    const a = new Uint8Array(13)
    const b = new Uint8Array(51)
    split.fillBytes(a)
    split.fillBytes(b)
    expect(hex(a) + hex(b)).toBe(hex(whole))
  })

  it('keeps every output within 64 bits, also for seeds at the top of the range', () => {
    const pcg = new GoPcg((1n << 64n) - 1n, (1n << 64n) - 1n)
    for (let i = 0; i < 100; i++) {
      const value = pcg.uint64()
      expect(value >= 0n && value < 1n << 64n).toBe(true)
    }
  })

  it('different seeds give different streams', () => {
    const a = new Uint8Array(16)
    const b = new Uint8Array(16)
    new GoPcg(42n, 42n).fillBytes(a)
    new GoPcg(43n, 43n).fillBytes(b)
    expect(hex(a)).not.toBe(hex(b))
  })
})
