import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Epoch, U64_MAX } from './index.js'

const u64 = fc.bigInt({ min: 0n, max: U64_MAX })
const epochArb = fc.tuple(u64, u64).map(([m, g]) => new Epoch(m, g))
const EDGES = [0n, (1n << 53n) + 1n, (1n << 63n) - 1n, U64_MAX]

describe('Epoch', () => {
  it('orders by major first, then generation', () => {
    expect(new Epoch(1n, 0n).supersedes(new Epoch(0n, 99n))).toBe(true)
    expect(new Epoch(0n, 99n).supersedes(new Epoch(1n, 0n))).toBe(false)
    expect(new Epoch(2n, 4n).supersedes(new Epoch(2n, 3n))).toBe(true)
  })

  it('never supersedes itself', () => {
    expect(new Epoch(2n, 3n).supersedes(new Epoch(2n, 3n))).toBe(false)
    expect(new Epoch(2n, 3n).equals(new Epoch(2n, 3n))).toBe(true)
  })

  it('renews and transfers', () => {
    expect(new Epoch(3n, 7n).renewed().toString()).toBe('(3,8)')
    expect(new Epoch(3n, 7n).transferred().toString()).toBe('(4,0)')
    expect(Epoch.ZERO.toString()).toBe('(0,0)')
  })

  it('keeps every u64 edge exact', () => {
    for (const m of EDGES) {
      for (const g of EDGES) {
        const e = new Epoch(m, g)
        expect(e.majorVersion).toBe(m)
        expect(e.leaseGeneration).toBe(g)
        expect(Epoch.parse(e.toString()).equals(e)).toBe(true)
      }
    }
  })

  it('refuses components outside 0 … 2^64-1 with RangeError', () => {
    expect(() => new Epoch(-1n, 0n)).toThrow(RangeError)
    expect(() => new Epoch(0n, U64_MAX + 1n)).toThrow(RangeError)
    expect(() => new Epoch(U64_MAX, U64_MAX).renewed()).toThrow(RangeError)
    expect(() => new Epoch(U64_MAX, 0n).transferred()).toThrow(RangeError)
    expect(() => new Epoch(1 as unknown as bigint, 0n)).toThrow(TypeError)
  })

  it('is frozen', () => {
    const e = new Epoch(1n, 2n)
    expect(Object.isFrozen(e)).toBe(true)
    expect(() => { (e as { majorVersion: bigint }).majorVersion = 5n }).toThrow(TypeError)
  })

  it('parses only the (M,G) text form', () => {
    expect(Epoch.parse('(3,7)').equals(new Epoch(3n, 7n))).toBe(true)
    for (const bad of ['', '3,7', '(3,-1)', '(a,b)', '(3,7', '(1,2,3)']) {
      expect(() => Epoch.parse(bad)).toThrow(RangeError)
    }
  })

  it('sorts with Epoch.compare', () => {
    const sorted = [new Epoch(2n, 0n), new Epoch(0n, 9n), new Epoch(1n, 1n), new Epoch(1n, 0n)].sort(Epoch.compare)
    expect(sorted.map(String)).toEqual(['(0,9)', '(1,0)', '(1,1)', '(2,0)'])
  })

  describe('properties', () => {
    it('compare is antisymmetric and agrees with supersedes/equals', () => {
      fc.assert(fc.property(epochArb, epochArb, (a, b) => {
        const c = Epoch.compare(a, b)
        expect(Epoch.compare(b, a)).toBe(-c as -1 | 0 | 1)
        expect(a.supersedes(b)).toBe(c === 1)
        expect(a.equals(b)).toBe(c === 0)
        expect(a.supersedes(b) && b.supersedes(a)).toBe(false)
      }))
    })

    it('compare is transitive', () => {
      fc.assert(fc.property(epochArb, epochArb, epochArb, (a, b, c) => {
        if (Epoch.compare(a, b) <= 0 && Epoch.compare(b, c) <= 0) {
          expect(Epoch.compare(a, c)).toBeLessThanOrEqual(0)
        }
      }))
    })

    it('compare is total: exactly one of <, =, > holds', () => {
      fc.assert(fc.property(epochArb, epochArb, (a, b) => {
        const outcomes = [a.supersedes(b), b.supersedes(a), a.equals(b)].filter(Boolean)
        expect(outcomes).toHaveLength(1)
      }))
    })

    it('renewed() and transferred() always supersede their source', () => {
      const below = fc.bigInt({ min: 0n, max: U64_MAX - 1n })
      fc.assert(fc.property(below, below, (m, g) => {
        const e = new Epoch(m, g)
        expect(e.renewed().supersedes(e)).toBe(true)
        expect(e.transferred().supersedes(e)).toBe(true)
        expect(e.transferred().supersedes(e.renewed())).toBe(true)
      }))
    })
  })
})
