import { describe, expect, it } from 'vitest'
import { IgorError, isIgorError } from './index.js'

class ExampleError extends IgorError<'A' | 'B'> {
  override readonly name = 'ExampleError'
}

describe('IgorError', () => {
  it('carries a stable code, its message, its cause and its subclass name', () => {
    const cause = new Error('EACCES')
    const error = new ExampleError('B', 'x: permission denied', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(isIgorError(error)).toBe(true)
    expect([error.name, error.code, error.message, error.cause]).toEqual(['ExampleError', 'B', 'x: permission denied', cause])
    expect(isIgorError(new Error('plain'))).toBe(false)
  })
})
