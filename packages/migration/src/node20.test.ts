import { describe, expect, it } from 'vitest'
import './node20.js'

describe('Promise.withResolvers on Node 20', () => {
  it('is available and behaves like the standard method', async () => {
    const { promise, resolve } = (Promise as unknown as { withResolvers: <T>() => { promise: Promise<T>, resolve: (v: T) => void } }).withResolvers<number>()
    resolve(42)
    await expect(promise).resolves.toBe(42)
  })
})
