import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import { decodeAgentStarted, encodeAgentStarted } from './agent-started.js'
import type { AgentStarted } from './types.js'
import { refusal } from '../test-support.js'
const refusal_ = refusal

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8')

const GOLDEN_OK = '{"AgentID":"survivor","NodeID":"12D3KooWTarget","Success":true,"Error":""}\n'
const GOLDEN_NO = '{"AgentID":"survivor","NodeID":"12D3KooWTarget","Success":false,"Error":"wasm hash mismatch: \\u003cnone\\u003e"}\n'

describe('AgentStarted', () => {
  it('decodes and re-encodes the Go layout byte-identically', () => {
    expect(decodeAgentStarted(GOLDEN_OK)).toEqual({ AgentID: 'survivor', NodeID: '12D3KooWTarget', Success: true, Error: '' })
    expect(decodeAgentStarted(GOLDEN_NO).Error).toBe('wasm hash mismatch: <none>')
    expect(text(encodeAgentStarted(decodeAgentStarted(GOLDEN_OK)))).toBe(GOLDEN_OK)
    expect(text(encodeAgentStarted(decodeAgentStarted(Buffer.from(GOLDEN_NO))))).toBe(GOLDEN_NO)
  })

  it('accepts an empty AgentID (refusing an unreadable transfer) and a missing Error', () => {
    expect(decodeAgentStarted('{"AgentID":"","NodeID":"n","Success":false}')).toEqual({ AgentID: '', NodeID: 'n', Success: false, Error: '' })
  })

  it.each([
    ['{"AgentID":"a","NodeID":"n","Success":"true","Error":""}', 'AgentStarted.Success: expected true or false, got a string'],
    ['{"AgentID":"a","NodeID":"n","Error":""}', 'AgentStarted.Success: missing'],
    ['{"AgentID":1,"NodeID":"n","Success":true}', 'AgentStarted.AgentID: expected a string, got the number 1'],
    ['{"AgentID":"a","Success":true}', 'AgentStarted.NodeID: missing'],
    ['null', 'AgentStarted: expected an object, got null'],
    ['{"AgentID":"a"', 'AgentStarted: invalid JSON at byte 14: expected \',\' or \'}\'']
  ])('refuses %s', (input, message) => {
    const err = refusal(() => decodeAgentStarted(input))
    expect(err.code).toBe('BAD_REPLY')
    expect(err.message).toBe(message)
  })

  it('carries the refusal\'s typed code (ours) after Error, only when there is one; an unreadable code is dropped, not the answer', () => {
    const refusal = { AgentID: 'a', NodeID: 'n', Success: false, Error: 'full', Code: 'NODE_FULL' }
    const bytes = text(encodeAgentStarted(refusal))
    expect(bytes).toBe('{"AgentID":"a","NodeID":"n","Success":false,"Error":"full","Code":"NODE_FULL"}\n')
    expect(decodeAgentStarted(bytes)).toEqual(refusal)
    expect(text(encodeAgentStarted({ AgentID: 'a', NodeID: 'n', Success: true, Error: '', Code: '' }))).toBe('{"AgentID":"a","NodeID":"n","Success":true,"Error":""}\n')
    for (const code of ['"node full"', '1', 'null', `"${'A'.repeat(65)}"`]) {
      expect(decodeAgentStarted(`{"AgentID":"a","NodeID":"n","Success":false,"Error":"x","Code":${code}}`)).toEqual({ AgentID: 'a', NodeID: 'n', Success: false, Error: 'x' })
    }
    expect(refusal_(() => encodeAgentStarted({ ...refusal, Code: 'not a code' })).message).toBe('AgentStarted.Code: expected at most 64 characters A-Z, 0-9 or _')
  })

  it('encoder refuses bad values, naming the field', () => {
    const bad = { AgentID: 'a', NodeID: 'n', Success: 1, Error: '' } as unknown as AgentStarted
    const err = refusal(() => encodeAgentStarted(bad))
    expect(err.code).toBe('BAD_REPLY')
    expect(err.message).toBe('AgentStarted.Success: expected a boolean, got number')
  })

  it('round-trips arbitrary replies and refuses only with MigrationError', () => {
    const reply = fc.record({
      AgentID: fc.string({ maxLength: 30 }),
      NodeID: fc.string({ maxLength: 30 }),
      Success: fc.boolean(),
      Error: fc.string({ maxLength: 60 })
    })
    fc.assert(fc.property(reply, (r) => { expect(decodeAgentStarted(encodeAgentStarted(r))).toEqual(r) }), { numRuns: 300 })
    fc.assert(
      fc.property(fc.json(), (j) => {
        try {
          decodeAgentStarted(j)
        } catch (err) {
          if (!(err instanceof MigrationError) || err.code !== 'BAD_REPLY') throw err
        }
      }),
      { numRuns: 300 }
    )
  })
})
