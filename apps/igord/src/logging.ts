import pino from 'pino'
import type { Logger as PinoLogger } from 'pino'
import { createRequire } from 'node:module'
import type PinoPretty from 'pino-pretty'
import type { LogLevel } from './flags.js'

/** What the log writes to: the SonicBoom stream `pino.destination` returns. */
type Destination = ReturnType<typeof pino.destination>

/**
 * The log's file descriptor, made safe against a reader that went away
 * (`igord … | head -1` → EPIPE) or a descriptor that was closed (EBADF): the
 * first write error turns the destination into a sink that drops every later
 * line. The node's own output must never be what kills it (issue 8, point 8);
 * the checkpoints, not the log, are the record that matters.
 */
export function safeDestination(fd: number): Destination {
  const destination = pino.destination({ dest: fd, sync: true })
  let broken = false
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (broken) return
    broken = true
    const noop = (): boolean => true
    Object.assign(destination, { write: noop, flushSync: () => undefined, end: () => undefined })
    // One line on stderr when the log itself was stdout, so a person still learns why the log stopped.
    if (fd !== 2) {
      try {
        process.stderr.write(`igord: log output on fd ${fd} failed (${error.code ?? error.message}); logging stops, the node runs on\n`)
      } catch {
        // stderr is gone too
      }
    }
  })
  return destination
}

export { ignoreBrokenStdio } from './stdio.js'

/** Log fields that carry Unix nanoseconds (u64 as decimal strings). */
const NS_TIME_FIELDS = ['leaseExpiry', 'retiredAtNs', 'updatedAtNs', 'expiresAtNs', 'writtenAtNs']

/** `1733486103123456789` → `2024-12-06T12:35:03.123456789Z`; anything else as it is. */
export function isoFromNs(value: unknown): string {
  const text = String(value)
  if (!/^\d{1,20}$/.test(text)) return text
  const ns = BigInt(text)
  if (ns === 0n) return '0 (none)'
  const iso = new Date(Number(ns / 1_000_000n)).toISOString()
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`
}

/**
 * SPEC §6 logs: one JSON object per line by default, `--log-format pretty` for
 * people; `--log-level` / IGOR_LOG_LEVEL (SPEC §14). 64-bit values are logged as decimal strings by the callers.
 */
export function createLogger(format: 'json' | 'pretty', fd = 1, level: LogLevel = 'info'): PinoLogger {
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }
  if (format === 'pretty') {
    // Loaded only for `--log-format pretty`: its ~20 CommonJS files are not on the JSON start path (issue 21 item 5).
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty
    return pino(options, pretty({
      colorize: fd === 1 && process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,src,agentId',
      messageFormat: '{if agentId}[{agentId}] {end}{msg}',
      singleLine: true,
      // Issue 22: wall-clock nanoseconds read as times for people (the JSON logs keep the exact decimal).
      customPrettifiers: Object.fromEntries(NS_TIME_FIELDS.map((field) => [field, (value: unknown) => isoFromNs(value)])),
      sync: true,
      destination: safeDestination(fd)
    }))
  }
  return pino(options, safeDestination(fd))
}
