/**
 * The logging surface the runner needs. It is the structural subset of a pino
 * logger, so `apps/igord` passes its pino instance straight in while the
 * runner itself stays free of a logging dependency.
 */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

const noop = (): void => {}

export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger
}
