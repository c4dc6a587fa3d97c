import { describe, expect, it } from 'vitest'
import { RunnerError } from '../errors.js'
import { validateAgentId } from './agent-id.js'

describe('validateAgentId', () => {
  it.each(['a', 'survivor', 'agent-1.v2_final', 'A.b-C_d', 'x'.repeat(128), 'a.', '-a', '_'])('accepts %j', (id) => {
    expect(validateAgentId(id)).toBe(id)
  })

  it.each([
    ['../x', 'only letters'],
    ['a/b', 'only letters'],
    ['a\\b', 'only letters'],
    ['', 'must not be empty'],
    ['.', 'must not start with "."'],
    ['..', 'must not start with "."'],
    ['.hidden', 'must not start with "."'],
    ['a..b', 'must not contain ".."'],
    ['x\0y', 'only letters'],
    ['x'.repeat(129), 'at most 128 characters (got 129)'],
    ['a b', 'only letters'],
    ['é', 'only letters']
  ])('refuses %j', (id, reason) => {
    let caught: unknown
    try {
      validateAgentId(id)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(RunnerError)
    expect((caught as RunnerError).code).toBe('INVALID_AGENT_ID')
    expect((caught as RunnerError).message).toContain(JSON.stringify(id))
    expect((caught as RunnerError).message).toContain(reason)
  })

  it('refuses a non-string', () => {
    expect(() => validateAgentId(42 as unknown as string)).toThrow(/must be a string/)
  })
})
