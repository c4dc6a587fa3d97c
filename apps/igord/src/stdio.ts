// SPEC §10 / issue 8 point 8: the node's own output never kills it. Kept free of pino: cli.ts runs it first.

/** Process-wide: a broken stdout/stderr pipe is reported as an 'error' event, which must never become an uncaught exception. */
export function ignoreBrokenStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => undefined)
  }
}
