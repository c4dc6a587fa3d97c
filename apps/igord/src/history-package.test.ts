// SPEC §12 (issue 21 item 2): the `--with-history` file is read bounded and all-or-nothing.
import { describe, expect, it } from 'vitest'
import { HISTORY_PACKAGE_HEADER_LENGTH, HistoryPackageError, checkPackageHistory, encodeHistoryPackage, isHistoryPackage, splitHistoryPackage } from './history-package.js'

const join = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}
const pkg = new TextEncoder().encode('{"Package":{}}')
const file = (): Uint8Array => join(encodeHistoryPackage(pkg, { checkpoints: [], prunedAnchor: null }, 0))

describe('history package file', () => {
  it('splits the package from the history and keeps the anchor', () => {
    const bytes = join(encodeHistoryPackage(pkg, { checkpoints: [], prunedAnchor: 2n ** 64n - 1n }, 0))
    expect(isHistoryPackage(bytes)).toBe(true)
    const split = splitHistoryPackage(bytes, 1024)
    expect(new TextDecoder().decode(split.pkg)).toBe('{"Package":{}}')
    expect(split.prunedAnchor).toBe(2n ** 64n - 1n)
    expect(split.segment.length).toBe(24)
    expect(splitHistoryPackage(file(), 1024).prunedAnchor).toBeNull()
  })

  it('refuses a bad header, a package past the end or over the limit, with one line', () => {
    const cases: Array<[string, (b: Uint8Array) => void, RegExp]> = [
      ['magic', (b) => { b[0] = 0x58 }, /bad magic/],
      ['version', (b) => { new DataView(b.buffer).setUint32(8, 2, true) }, /unsupported history package version 2/],
      ['flags', (b) => { new DataView(b.buffer).setUint32(12, 6, true) }, /unknown history package flags 0x6/],
      ['anchor', (b) => { new DataView(b.buffer).setBigUint64(16, 5n, true) }, /anchor tick set on a history that is not pruned/],
      ['length', (b) => { new DataView(b.buffer).setBigUint64(24, 2n ** 64n - 1n, true) }, /package length 18446744073709551615 is over/]
    ]
    for (const [, spoil, reason] of cases) {
      const bytes = file()
      spoil(bytes)
      expect(() => splitHistoryPackage(bytes, 1024)).toThrow(reason)
      expect(() => splitHistoryPackage(bytes, 1024)).toThrow(HistoryPackageError)
    }
    expect(() => splitHistoryPackage(file(), pkg.length - 1)).toThrow(/over the \d+-byte limit/)
    expect(() => splitHistoryPackage(file().subarray(0, HISTORY_PACKAGE_HEADER_LENGTH - 1), 1024)).toThrow(/cut short/)
  })

  it('refuses a history that is empty or not a segment', () => {
    const split = splitHistoryPackage(file(), 1024)
    expect(() => checkPackageHistory(split.segment, null, new Uint8Array(1))).toThrow(/holds no checkpoint/)
    expect(() => checkPackageHistory(new Uint8Array(3), null, new Uint8Array(1))).toThrow(/history damaged at byte 0/)
    expect(() => checkPackageHistory(new TextEncoder().encode('not a segment at all, really'), null, new Uint8Array(1))).toThrow(/bad magic/)
  })
})
