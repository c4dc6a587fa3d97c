import pino from 'pino'
import type { Logger as PinoLogger } from 'pino'
import pretty from 'pino-pretty'

/**
 * SPEC §6 logs: one JSON object per line by default, `--log-format pretty` for
 * people. 64-bit values are logged as decimal strings by the callers.
 */
export function createLogger(format: 'json' | 'pretty'): PinoLogger {
  const options = { base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }
  if (format === 'pretty') {
    return pino(options, pretty({
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,src,agentId',
      messageFormat: '{if agentId}[{agentId}] {end}{msg}',
      singleLine: true,
      sync: true
    }))
  }
  return pino(options, pino.destination({ dest: 1, sync: true }))
}
