import { describe, expect, it } from 'vitest'
import { DEFAULT_REPLAY_SETTINGS, ReplaySettingsError, parseReplaySettings, verifiesOnMigrate, verifiesPeriodically } from './flags.js'

describe('parseReplaySettings (SPEC §12 self-verification flags)', () => {
  it('defaults to full, every 5th observing tick, log', () => {
    expect(parseReplaySettings({})).toEqual({ mode: 'full', verifyInterval: 5, onDivergence: 'log' })
    expect(DEFAULT_REPLAY_SETTINGS.mode).toBe('full')
  })

  it('accepts every documented value', () => {
    for (const mode of ['off', 'periodic', 'on-migrate', 'full']) expect(parseReplaySettings({ replayMode: mode }).mode).toBe(mode)
    for (const policy of ['log', 'pause', 'intensify']) expect(parseReplaySettings({ replayOnDivergence: policy }).onDivergence).toBe(policy)
    expect(parseReplaySettings({ verifyInterval: '1' }).verifyInterval).toBe(1)
    expect(parseReplaySettings({ verifyInterval: '250' }).verifyInterval).toBe(250)
  })

  it.each([
    [{ replayMode: 'ful' }, '--replay-mode must be one of off, periodic, on-migrate, full (got "ful")'],
    [{ replayMode: '' }, '--replay-mode must be one of off, periodic, on-migrate, full (got "")'],
    [{ replayMode: 'FULL' }, '--replay-mode must be one of off, periodic, on-migrate, full (got "FULL")'],
    [{ replayOnDivergence: 'migrate' }, '--replay-on-divergence must be one of log, pause, intensify (got "migrate")'],
    [{ verifyInterval: '0' }, '--verify-interval must be a whole number of ticks from 1 to 1000000000 (got "0")'],
    [{ verifyInterval: '-3' }, '--verify-interval must be a whole number of ticks from 1 to 1000000000 (got "-3")'],
    [{ verifyInterval: '2.5' }, '--verify-interval must be a whole number of ticks from 1 to 1000000000 (got "2.5")'],
    [{ verifyInterval: '5s' }, '--verify-interval must be a whole number of ticks from 1 to 1000000000 (got "5s")'],
    [{ verifyInterval: '' }, '--verify-interval must be a whole number of ticks from 1 to 1000000000 (got "")'],
    [{ verifyInterval: '99999999999' }, '--verify-interval must be a whole number of ticks from 1 to 1000000000 (got "99999999999")']
  ])('refuses %j with one clear line', (flags, message) => {
    let caught: unknown
    try {
      parseReplaySettings(flags)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ReplaySettingsError)
    expect((caught as ReplaySettingsError).code).toBe('INVALID_REPLAY_SETTING')
    expect((caught as Error).message).toBe(message)
    expect((caught as Error).message).not.toContain('\n')
  })

  it('maps modes to where verification happens', () => {
    const at = (mode: string): [boolean, boolean] => {
      const settings = parseReplaySettings({ replayMode: mode })
      return [verifiesPeriodically(settings), verifiesOnMigrate(settings)]
    }
    expect(at('off')).toEqual([false, false])
    expect(at('periodic')).toEqual([true, false])
    expect(at('on-migrate')).toEqual([false, true])
    expect(at('full')).toEqual([true, true])
  })
})
