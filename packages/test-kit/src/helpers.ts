import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IgorError } from '@igor/errors'

/** The pino-shaped logging surface of @igor/sandbox and @igor/runner (structural, so no dependency). */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

export interface LogLine { level: string, msg: string, fields: Record<string, unknown> }

/** A Logger that records every line (bindings of children included) for assertions. */
export function recordingLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const at = (level: string) => (obj: object, msg?: string): void => { lines.push({ level, msg: msg ?? '', fields: { ...bindings, ...obj } }) }
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more })
  }
}

/** Polls until `check` returns a truthy value; fails the test with `what` if it never does. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export async function tempDir(prefix = 'igor-test-'): Promise<{ path: string, remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: async () => rm(path, { recursive: true, force: true }) }
}

/** The typed error (an `IgorError`) a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function refusal(promise: Promise<unknown>): Promise<IgorError> {
  try {
    await promise
  } catch (error) {
    if (!(error instanceof IgorError)) throw new Error(`expected a typed IgorError, got ${String(error)}`)
    return error
  }
  throw new Error('expected a refusal')
}

/** The `counter` fixture's state: an i64 count, little-endian (its state equals its tick number). */
export function counterValue(state: Uint8Array): bigint {
  return new DataView(state.buffer, state.byteOffset, state.byteLength).getBigUint64(0, true)
}
