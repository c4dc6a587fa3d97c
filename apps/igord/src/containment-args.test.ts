import { describe, expect, it } from 'vitest'
import { parseCommand, UsageError } from './args.js'

// Issue 8 points 5 and 6: the containment flags and the release subcommand.
describe('containment flags', () => {
  it('--max-agents and --peer-admissions-per-minute: defaults, values, refusals', () => {
    expect(parseCommand([])).toMatchObject({ kind: 'start', maxAgents: null, peerAdmissionsPerMinute: 30 })
    expect(parseCommand(['--max-agents', '5', '--peer-admissions-per-minute', '2'])).toMatchObject({ maxAgents: 5, peerAdmissionsPerMinute: 2 })
    for (const bad of ['0', '-1', '1.5', 'x']) {
      expect(() => parseCommand(['--max-agents', bad])).toThrow(UsageError)
      expect(() => parseCommand(['--peer-admissions-per-minute', bad])).toThrow(UsageError)
    }
  })

  it('--agents-per-worker (issue 11): default 16, 1..256, anything else refused with the flag named', () => {
    expect(parseCommand([])).toMatchObject({ kind: 'start', agentsPerWorker: 16 })
    expect(parseCommand(['--agents-per-worker', '1'])).toMatchObject({ agentsPerWorker: 1 })
    expect(parseCommand(['--agents-per-worker', '256'])).toMatchObject({ agentsPerWorker: 256 })
    for (const bad of ['0', '257', '-1', '1.5', 'x', '9007199254740993']) {
      expect(() => parseCommand(['--agents-per-worker', bad])).toThrow(/--agents-per-worker/)
    }
  })

  it('release <agentId>', () => {
    expect(parseCommand(['release', 'victim', '--data-dir', 'd'])).toMatchObject({ kind: 'release', agentId: 'victim', dataDir: 'd' })
    expect(() => parseCommand(['release'])).toThrow('release needs an agent id: igord release <agentId>')
    expect(() => parseCommand(['release', '../x'])).toThrow(UsageError)
  })
})
