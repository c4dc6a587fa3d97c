// SPEC §16 Placement: the classification table, by typed code only.
import { describe, expect, it } from 'vitest'
import { MigrationError, type MigrationErrorCode } from '../errors.js'
import { classifyAttempt } from './classify.js'

const rejected = (refusal: string | null, message = 'anything at all'): MigrationError => new MigrationError('REJECTED', message, { refusal })

describe('classifyAttempt', () => {
  // Every code a target refuses with (RunnerError codes from admission, MigrationError codes from the gate and the reader).
  it.each([
    ['MANIFEST_INVALID', 'refused'], // price above max_price_per_second, migration disabled
    ['UNDECLARED_CAPABILITY', 'refused'],
    ['HASH_MISMATCH', 'refused'],
    ['REPLAY_FAILED', 'refused'],
    ['SIGNATURE_INVALID', 'refused'],
    ['IDENTITY_MISMATCH', 'refused'],
    ['IDENTITY_INVALID', 'refused'],
    ['NODE_FULL', 'refused'],
    ['NODE_DRAINING', 'refused'],
    ['FENCED', 'refused'],
    ['AGENT_EXISTS', 'refused'],
    ['AGENT_QUARANTINED', 'refused'],
    ['ADMISSION_REFUSED', 'refused'],
    ['RECEIPTS_INVALID', 'refused'],
    ['CHECKPOINT_CORRUPT', 'refused'],
    ['AGENT_INIT_FAILED', 'refused'],
    ['BAD_TRANSFER', 'refused'],
    ['TRANSFER_TOO_LARGE', 'refused'],
    ['UNKNOWN', 'refused'],
    ['SOMETHING_NEW', 'refused'],
    ['TARGET_BUSY', 'transient'],
    ['RATE_LIMITED', 'transient'],
    ['TRANSFER_TIMEOUT', 'transient'],
    ['TRANSFER_TRUNCATED', 'transient'],
    ['TRANSFER_EMPTY', 'transient'],
    ['TRANSFER_ABORTED', 'transient'],
    ['STREAM_FAILED', 'transient']
  ])('a target refusing with %s → %s', (code, kind) => {
    expect(classifyAttempt(rejected(code))).toEqual({ kind, code })
  })

  it('a refusal with no code (a reference target) is definite', () => {
    expect(classifyAttempt(rejected(null))).toEqual({ kind: 'refused', code: 'REJECTED' })
  })

  it.each<[MigrationErrorCode, string]>([
    ['DIAL_FAILED', 'transient'],
    ['OUTCOME_UNKNOWN', 'ambiguous'],
    ['BAD_PEER_ADDRESS', 'refused'],
    ['BAD_TRANSFER', 'local'],
    ['NODE_KEY_INVALID', 'local']
  ])('the source failing with %s → %s', (code, kind) => {
    expect(classifyAttempt(new MigrationError(code, 'x'))).toEqual({ kind, code })
  })

  it('a non-migration error (the runtime refusing to begin) is local', () => {
    const runnerError = Object.assign(new Error('agent x is halted'), { code: 'AGENT_HALTED' })
    expect(classifyAttempt(runnerError)).toEqual({ kind: 'local', code: 'AGENT_HALTED' })
    expect(classifyAttempt('boom')).toEqual({ kind: 'local', code: 'UNKNOWN' })
  })

  it('never reads the message', () => {
    expect(classifyAttempt(rejected('NODE_FULL', 'TARGET_BUSY: try again later')).kind).toBe('refused')
    expect(classifyAttempt(rejected('TARGET_BUSY', 'node is full (NODE_FULL)')).kind).toBe('transient')
    expect(classifyAttempt(new MigrationError('DIAL_FAILED', 'OUTCOME_UNKNOWN')).kind).toBe('transient')
  })
})
