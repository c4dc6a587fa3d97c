import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLogger, isoFromNs } from './logging.js'

// Issue 8, point 8: logging to a closed descriptor (EBADF) must never throw into the node.
describe('createLogger on a descriptor that goes away', () => {
  for (const format of ['json', 'pretty'] as const) {
    it(`${format}: lines before the close are written, lines after it are dropped without throwing`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'igor-log-'))
      try {
        const fd = openSync(join(dir, 'log'), 'w')
        const log = createLogger(format, fd)
        log.info({ n: 1 }, 'before')
        closeSync(fd)
        expect(() => {
          for (let i = 0; i < 5; i++) log.info({ n: i }, 'after')
        }).not.toThrow()
        expect(readFileSync(join(dir, 'log'), 'utf8')).toContain('before')
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
})

// Issue 22: pretty logs show wall-clock nanoseconds as times.
describe('pretty logs', () => {
  it('print lease expiry as an ISO time, exactly to the nanosecond', () => {
    const dir = mkdtempSync(join(tmpdir(), 'igor-log-'))
    try {
      const fd = openSync(join(dir, 'log'), 'w')
      createLogger('pretty', fd, 'debug').debug({ leaseExpiry: '1733486103123456789' }, 'lease renewed')
      closeSync(fd)
      expect(readFileSync(join(dir, 'log'), 'utf8')).toContain('"leaseExpiry":"2024-12-06T11:55:03.123456789Z"')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('isoFromNs leaves what is not a count of nanoseconds alone', () => {
    expect(isoFromNs('0')).toBe('0 (none)')
    expect(isoFromNs('soon')).toBe('soon')
    expect(isoFromNs(18446744073709551615n)).toMatch(/^\+?\d+-\d\d-\d\dT/)
  })
})
